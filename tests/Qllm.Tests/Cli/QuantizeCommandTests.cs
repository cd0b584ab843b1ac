using System.Text.Json.Nodes;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

/// <summary>
/// qllm quantize / run / eval end to end, as separate processes: GPTQ on stories260K, the packed model against
/// its fake-quant simulation, and the saved checkpoint loaded back, all on the same WikiText-2 windows.
/// </summary>
public class QuantizeCommandTests
{
    private static readonly string[] Calibration = ["--nsamples", "16", "--calib-seqlen", "256", "--calib-sampling", "first"];
    private static readonly string[] Scoring = ["--ppl", "wikitext2", "--seqlen", "512", "--limit", "40"];

    private static double Perplexity(string json) =>
        JsonNode.Parse(File.ReadAllText(json))!["results"]!["wikitext2"]!["ppl"]!.GetValue<double>();

    [Fact]
    public void PackedSimulatedAndSavedThenLoadedGiveTheSamePerplexity()
    {
        using var folder = new TempFolder();
        string saved = folder.File("w4g32");
        var packed = CliProcess.Run(["run", "--model", SharedModels.Stories260KFolder, "--method", "gptq", "--wbits", "4", "--wgroup", "32",
            .. Calibration, .. Scoring, "--save", saved, "-o", folder.File("packed.json")]);
        Assert.True(packed.ExitCode == 0, packed.StdErr);
        var simulated = CliProcess.Run(["run", "--model", SharedModels.Stories260KFolder, "--method", "gptq", "--wbits", "4", "--wgroup", "32",
            .. Calibration, .. Scoring, "--simulate", "-o", folder.File("simulated.json")]);
        Assert.True(simulated.ExitCode == 0, simulated.StdErr);
        var loaded = CliProcess.Run(["eval", "--model", saved, .. Scoring, "-o", folder.File("loaded.json")]);
        Assert.True(loaded.ExitCode == 0, loaded.StdErr);
        var loadedSimulated = CliProcess.Run(["eval", "--model", saved, .. Scoring, "--simulate", "-o", folder.File("loaded-simulated.json")]);
        Assert.True(loadedSimulated.ExitCode == 0, loadedSimulated.StdErr);

        double p = Perplexity(folder.File("packed.json")), s = Perplexity(folder.File("simulated.json"));
        double l = Perplexity(folder.File("loaded.json")), ls = Perplexity(folder.File("loaded-simulated.json"));
        Assert.True(Math.Abs(p - s) <= 1e-4 * s, $"packed {p} vs simulated {s}");
        // Saving rounds the scales to fp16 (the format's), so the loaded model is compared with itself packed and simulated,
        // and with the in-memory model within that rounding.
        Assert.True(Math.Abs(l - ls) <= 1e-4 * ls, $"loaded packed {l} vs loaded simulated {ls}");
        Assert.True(Math.Abs(l - p) <= 1e-3 * p, $"loaded {l} vs quantized in memory {p}");
        Assert.True(File.Exists(Path.Combine(saved, "config.json")) && File.Exists(Path.Combine(saved, "tokenizer.bin")));
    }

    [Fact]
    public void QuantizePrintsTheLayerTableAndWritesTheTimeSplit()
    {
        using var folder = new TempFolder();
        var result = CliProcess.Run(["quantize", "--model", SharedModels.Stories260KFolder, "--wbits", "3", .. Calibration,
            "--save", folder.File("w3"), "-o", folder.File("q.json")]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("| model.layers.0.self_attn.q_proj", result.StdOut);
        var json = JsonNode.Parse(File.ReadAllText(folder.File("q.json")))!;
        Assert.Equal(35, json["layers"]!.AsArray().Count); // 5 blocks × 7 linears
        foreach (string key in new[] { "capture_s", "hessian_s", "solve_s", "forward_s" })
            Assert.True(json["timings"]![key]!.GetValue<double>() >= 0, key);
        Assert.Equal(3, json["config"]!["wbits"]!.GetValue<int>());
    }

    public static TheoryData<string[], string> BadInputs() => new()
    {
        { ["--wbits", "9"], "--wbits" },
        { ["--wbits", "1"], "--wbits" },
        { ["--wgroup", "0"], "--wgroup" },
        { ["--wgroup", "-2"], "--wgroup" },
        { ["--method", "awq"], "--method" },
        { ["--percdamp", "0"], "--percdamp" },
        { ["--static-groups"], "--static-groups" },
        { ["--calib-sampling", "middle"], "--calib-sampling" },
        { ["--nsamples", "0"], "--nsamples" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void ImpossibleOptionsGiveOneClearError(string[] options, string named)
    {
        using var folder = new TempFolder();
        var result = CliProcess.Run(["quantize", "--model", SharedModels.Stories260KFolder, .. options, "--save", folder.File("out")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
        Assert.False(Directory.Exists(folder.File("out")));
    }

    [Fact]
    public void ACalibrationFileTooShortForOneWindowIsNamed()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("short.txt"), "Once upon a time there was a cat.");
        var result = CliProcess.Run(["quantize", "--model", SharedModels.Stories260KFolder, "--calib", folder.File("short.txt"), "--calib-seqlen", "256", "--save", folder.File("out")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("short.txt", result.StdErr);
        Assert.False(Directory.Exists(folder.File("out")));
    }

    [Fact]
    public void AFolderThatIsNotAGptqCheckpointIsRefusedByName()
    {
        // A Hugging Face folder whose config says GPTQ but which holds plain weights: the loader names the missing tensor.
        using var folder = new TempFolder();
        var export = CliProcess.Run(["quantize", "--model", SharedModels.Stories260KFolder, "--method", "rtn", "--wbits", "4", "--save", folder.File("q")]);
        Assert.True(export.ExitCode == 0, export.StdErr);
        string plain = folder.File("plain");
        Directory.CreateDirectory(plain);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder.File("q"), "config.json")))!;
        config["quantization_config"]!["quant_method"] = "awq";
        File.WriteAllText(Path.Combine(plain, "config.json"), config.ToJsonString());
        File.Copy(Path.Combine(folder.File("q"), "model.safetensors"), Path.Combine(plain, "model.safetensors"));
        var result = CliProcess.Run(["eval", "--model", plain, "--limit", "1"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("config.json", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);

        // And quantizing an already-quantized checkpoint is refused.
        var again = CliProcess.Run(["quantize", "--model", folder.File("q"), "--method", "rtn", "--save", folder.File("again")]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already quantized", again.StdErr);
    }
}
