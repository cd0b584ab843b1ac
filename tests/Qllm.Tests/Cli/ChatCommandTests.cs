using System.Text.Json.Nodes;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

public class ChatCommandTests
{
    [Fact]
    public void OneShotOnARandomLlama3CheckpointUsesItsTemplateAndStopsWithinTheBudget()
    {
        using var folder = new TempFolder();
        string model = Path.Combine(folder.Path, "llama3");
        RandomLlama3Checkpoint.Write(model, maxPositions: 256);
        string json = folder.File("chat.json");
        var result = CliProcess.Run("chat", "--model", model, "--prompt", "Hello", "--temperature", "0", "--max-new-tokens", "8", "--output", json);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("chat template: llama3", result.StdErr);
        var results = JsonNode.Parse(File.ReadAllText(json))!["results"]!;
        // <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n
        Assert.Equal(11, results["prompt_tokens"]!.GetValue<int>());
        Assert.InRange(results["new_tokens"]!.GetValue<int>(), 0, 8);
        Assert.Equal(results["reply"]!.GetValue<string>() + "\n", result.StdOut);
    }

    [Fact]
    public void OneShotOnStories260KContinuesThePlainPrompt()
    {
        var result = CliProcess.Run("chat", "--model", SharedModels.Stories260KFolder, "--prompt", "Once upon a time", "--temperature", "0", "--max-new-tokens", "20");
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("chat template: none", result.StdErr);
        // The documented greedy story, without the prompt.
        Assert.StartsWith(GenerateCommandTests.DocumentedGreedyText["Once upon a time".Length..][..40], result.StdOut);
    }

    [Theory]
    [InlineData("--chat-template", "vicuna", "--chat-template")]
    [InlineData("--max-new-tokens", "0", "--max-new-tokens")]
    [InlineData("--top-p", "2", "--top-p")]
    public void BadOptionsGiveOneClearError(string option, string value, string named)
    {
        var result = CliProcess.Run("chat", "--model", SharedModels.Stories260KFolder, "--prompt", "x", option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }
}
