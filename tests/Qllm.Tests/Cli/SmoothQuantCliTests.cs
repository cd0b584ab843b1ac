using System.Text.Json.Nodes;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

public class SmoothQuantCliTests
{
    private static string[] Eval(params string[] extra) =>
        ["eval", "--model", SharedModels.Stories260KFolder, "--ppl", "wikitext2", "--seqlen", "128", "--limit", "1",
            "--data-dir", SharedData.Path("data"), .. extra];

    [Fact]
    public void AnAlphaSweepPrintsOneRowPerAlphaAndReportsEachInTheJson()
    {
        using var folder = new TempFolder();
        string json = folder.File("sweep.json");
        var result = CliProcess.Run(Eval("--wbits", "8", "--abits", "8", "--agranularity", "per-tensor",
            "--smooth-alpha-sweep", "0.4:0.6:0.1", "--smooth-nsamples", "2", "--smooth-seqlen", "64", "--output", json));
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("| α", result.StdOut);
        Assert.Contains("| 0.60", result.StdOut);

        var document = JsonNode.Parse(File.ReadAllText(json))!;
        var sweep = document["results"]!.AsArray();
        Assert.Equal([0.4, 0.5, 0.6], sweep.Select(e => e!["alpha"]!.GetValue<double>()));
        Assert.All(sweep, e => Assert.True(e!["results"]!["wikitext2"]!["ppl"]!.GetValue<double>() > 1));
        Assert.Equal(2, document["config"]!["smoothquant"]!["calibration"]!["nsamples"]!.GetValue<int>());
        Assert.Equal(64, document["calibration"]!["smoothquant"]!["seqlen"]!.GetValue<int>());
        var maxima = document["calibration"]!["smoothquant_activation_maxima"]!.AsArray();
        Assert.Equal(10, maxima.Count); // 5 blocks × (q/k/v, gate/up)
        Assert.All(maxima, m => Assert.True(m!["max_over_median"]!.GetValue<double>() >= 1));
    }

    [Fact]
    public void RunSmoothsBeforeQuantizingTheWeightsAndActivations()
    {
        using var folder = new TempFolder();
        string json = folder.File("run.json");
        var result = CliProcess.Run("run", "--model", SharedModels.Stories260KFolder, "--method", "rtn", "--wbits", "8", "--abits", "8",
            "--smooth", "--smooth-nsamples", "2", "--smooth-seqlen", "64", "--ppl", "wikitext2", "--seqlen", "128", "--limit", "1",
            "--data-dir", SharedData.Path("data"), "--output", json);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("smooth α=0.50", result.StdOut);
        var document = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal(8, document["config"]!["activations"]!["abits"]!.GetValue<int>());
        Assert.Equal(0.5, document["config"]!["smoothquant"]!["alphas"]![0]!.GetValue<double>());
        Assert.Equal(2, document["calibration"]!["smoothquant"]!["windows"]!.GetValue<int>());
        Assert.Equal(35, document["layers"]!.AsArray().Count);
    }

    [Fact]
    public void LlmInt8ReportsItsOutlierColumns()
    {
        using var folder = new TempFolder();
        string json = folder.File("int8.json");
        var result = CliProcess.Run(Eval("--llm-int8", "--int8-threshold", "0.5", "--output", json));
        Assert.True(result.ExitCode == 0, result.StdErr);
        var int8 = JsonNode.Parse(File.ReadAllText(json))!["config"]!["llm_int8"]!;
        Assert.Equal(0.5, int8["threshold"]!.GetValue<double>());
        Assert.True(int8["mean_outlier_columns_per_layer"]!.GetValue<double>() > 0);
        Assert.Equal(35, int8["layers"]!.AsArray().Count); // 5 blocks × 7 linears
    }

    [Theory]
    [InlineData("--smooth-alpha needs --smooth", "--smooth-alpha", "0.5")]
    [InlineData("--smooth-alpha-sweep", "--smooth-alpha-sweep", "0.9:0.3:0.1")]
    [InlineData("--abits", "--llm-int8", "--abits", "8")]
    public void ImpossibleOptionsAreNamed(string named, params string[] options)
    {
        var result = CliProcess.Run(Eval(options));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }
}
