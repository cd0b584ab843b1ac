using System.Text.Json.Nodes;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

public class EvalCommandTests
{
    [Fact]
    public void WritesAMarkdownTableAndJsonWithConfigurationTimingsAndResults()
    {
        using var folder = new TempFolder();
        string json = folder.File("results.json");
        var result = CliProcess.Run("eval", "--model", SharedModels.Stories260KFolder, "--ppl", "wikitext2,ptb", "--seqlen", "512",
            "--limit", "2", "--wbits", "4", "--wgroup", "32", "--output", json, "--data-dir", SharedData.Path("data"));
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("| dataset", result.StdOut);
        Assert.Contains("| wikitext2", result.StdOut);

        var document = JsonNode.Parse(File.ReadAllText(json))!;
        var wikitext = document["results"]!["wikitext2"]!;
        Assert.Equal(2, wikitext["windows"]!.GetValue<int>());
        Assert.Equal(512, wikitext["seqlen"]!.GetValue<int>());
        Assert.True(wikitext["ppl"]!.GetValue<double>() > 1);
        Assert.True(wikitext["tokens"]!.GetValue<long>() > 100_000);
        Assert.Equal(4, document["config"]!["quantization"]!["wbits"]!.GetValue<int>());
        Assert.Equal(32, document["config"]!["quantization"]!["wgroup"]!.GetValue<int>());
        Assert.NotNull(document["timings"]!["wikitext2"]!["eval_s"]);
        Assert.NotNull(document["results"]!["ptb"]);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp*"));
    }

    [Fact]
    public void SeqLenIsCappedAtTheModelsMaximumPositions()
    {
        using var folder = new TempFolder();
        string json = folder.File("r.json");
        var result = CliProcess.Run("eval", "--model", SharedModels.Stories260KFolder, "--ppl", "wikitext2", "--limit", "1",
            "--output", json, "--data-dir", SharedData.Path("data"));
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Equal(512, JsonNode.Parse(File.ReadAllText(json))!["results"]!["wikitext2"]!["seqlen"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("--ppl", "nosuchset", "nosuchset")]
    [InlineData("--seqlen", "1", "--seqlen")]
    [InlineData("--wgroup", "0", "group")]
    [InlineData("--wgroup", "-2", "group")]
    [InlineData("--agranularity", "per-row", "--agranularity")]
    [InlineData("--weight-dtype", "f16", "--weight-dtype")]
    public void ImpossibleOptionsAreNamed(string option, string value, string named)
    {
        var result = CliProcess.Run("eval", "--model", SharedModels.Stories260KFolder, "--wbits", "4", option, value, "--limit", "1");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public void AMissingModelIsNamed()
    {
        var result = CliProcess.Run("eval", "--model", "/no/such/model");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("/no/such/model", result.StdErr);
    }
}
