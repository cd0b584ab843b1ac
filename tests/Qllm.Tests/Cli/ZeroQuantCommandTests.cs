using System.Text.Json.Nodes;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

/// <summary><c>qllm run --method zeroquant</c> end to end on stories260K (few windows, few LKD steps), and its bad options.</summary>
public class ZeroQuantCommandTests
{
    private static readonly string[] Scoring = ["--ppl", "wikitext2", "--seqlen", "512", "--limit", "10"];

    [Fact]
    public void LkdReportsItsLossPerStepAndTheBlockMse()
    {
        using var folder = new TempFolder();
        var result = CliProcess.Run(["run", "--model", SharedModels.Stories260KFolder, "--method", "zeroquant", "--wbits", "4", "--zq-mixed", "--zq-abits", "8",
            "--lkd-layers", "last", "--lkd-steps", "4", "--lkd-batch", "2", "--lkd-log-every", "2", "--lkd-lr", "1e-3",
            "--nsamples", "4", "--calib-seqlen", "64", "--calib-sampling", "first", .. Scoring, "-o", folder.File("zq.json")]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("| 4     | 2    |", result.StdOut);
        Assert.Contains("MSE before LKD", result.StdOut);
        Assert.Contains("zeroquant W4/8A8 per-channel + LKD(last, 4 steps", result.StdOut);
        var json = JsonNode.Parse(File.ReadAllText(folder.File("zq.json")))!;
        var block = json["calibration"]!["lkd"]!.AsArray().Single()!;
        Assert.Equal(4, block["block"]!.GetValue<int>());
        Assert.Equal(4, block["step_losses"]!.AsArray().Count);
        Assert.True(block["mse_after"]!.GetValue<double>() < block["mse_before"]!.GetValue<double>());
        Assert.Equal("W4/8A8 per-channel", json["config"]!["zeroquant"]!["scheme"]!.GetValue<string>());
        Assert.True(json["results"]!["wikitext2"]!["ppl"]!.GetValue<double>() > 1);
    }

    public static TheoryData<string[], string> BadInputs() => new()
    {
        { ["--method", "zeroquant", "--lkd-layers", "9"], "--lkd-layers" },
        { ["--method", "zeroquant", "--lkd-layers", "first"], "--lkd-layers" },
        { ["--method", "zeroquant", "--lkd-layers", "last", "--lkd-lr", "0"], "--lkd-lr" },
        { ["--method", "zeroquant", "--lkd-layers", "last", "--lkd-batch", "0"], "--lkd-batch" },
        { ["--method", "zeroquant", "--lkd-steps", "10"], "--lkd-layers" },
        { ["--method", "zeroquant", "--zq-abits", "1"], "--zq-abits" },
        { ["--method", "zeroquant", "--wclip"], "--wclip" },
        { ["--method", "gptq", "--zq-mixed"], "--method zeroquant" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void ImpossibleOptionsGiveOneClearError(string[] options, string named)
    {
        var result = CliProcess.Run(["run", "--model", SharedModels.Stories260KFolder, .. options, .. Scoring]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }
}
