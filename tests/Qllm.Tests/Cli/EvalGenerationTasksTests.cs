using System.Text.Json.Nodes;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

public class EvalGenerationTasksTests
{
    [Fact]
    public void Gsm8kAndNeedleWriteTablesAndLmEvalNamedResults()
    {
        using var folder = new TempFolder();
        string json = folder.File("tasks.json");
        var result = CliProcess.Run("eval", "--model", SharedModels.Stories260KFolder, "--tasks", "gsm8k,needle", "--limit", "2",
            "--max-gen-toks", "16", "--output", json, "--data-dir", SharedData.Path("data"));
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("| gsm8k | strict-match", result.StdOut);
        Assert.Contains("| 68v423", result.StdOut);
        Assert.DoesNotContain("| wikitext2", result.StdOut); // no perplexity unless --ppl is given

        var results = JsonNode.Parse(File.ReadAllText(json))!["results"]!;
        Assert.NotNull(results["gsm8k"]!["exact_match,strict-match"]);
        Assert.NotNull(results["gsm8k"]!["exact_match,flexible-extract"]);
        Assert.Equal(2, results["gsm8k"]!["samples"]!.GetValue<int>());
        Assert.Equal(5, results["needle"]!["total"]!.GetValue<int>());
    }

    [Fact]
    public void NeedleRunsOnARandomLlama3CheckpointWithTheFullHaystackWhenItFits()
    {
        using var folder = new TempFolder();
        string model = Path.Combine(folder.Path, "llama3");
        RandomLlama3Checkpoint.Write(model, maxPositions: 1024);
        string json = folder.File("needle.json");
        var result = CliProcess.Run("eval", "--model", model, "--tasks", "needle", "--output", json, "--data-dir", SharedData.Path("data"));
        Assert.True(result.ExitCode == 0, result.StdErr);
        var keys = JsonNode.Parse(File.ReadAllText(json))!["results"]!["needle"]!["keys"]!.AsArray();
        Assert.Equal(5, keys.Count);
        foreach (var key in keys)
        {
            Assert.True(key!["prompt_tokens"]!.GetValue<int>() <= 1024);
            Assert.True(key["haystack_lines_per_side"]!.GetValue<int>() > 10);
        }
    }

    [Theory]
    [InlineData("--tasks", "mmlu_x", "--tasks")]
    [InlineData("--num-fewshot", "-1", "--num-fewshot")]
    [InlineData("--max-gen-toks", "0", "--max-gen-toks")]
    public void BadTaskOptionsGiveOneClearError(string option, string value, string named)
    {
        string[] args = option == "--tasks"
            ? ["eval", "--model", SharedModels.Stories260KFolder, option, value]
            : ["eval", "--model", SharedModels.Stories260KFolder, "--tasks", "gsm8k", option, value];
        var result = CliProcess.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }
}
