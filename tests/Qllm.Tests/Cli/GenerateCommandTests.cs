using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

public class GenerateCommandTests
{
    /// <summary>The greedy sample documented in karpathy/llama2.c doc/stories260K.md (run -t 0.0, 256 steps).</summary>
    public const string DocumentedGreedyText =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n" +
        "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. She said, \"I want to play with your ball, but I can't find it.\"\n" +
        "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n" +
        "Lily didn't want to help her mom, so she said, \"I'm sorry, mom. I didn't know what to do.\" Her mom said, \"Don't worry, Lily. We can help you.";

    [Fact]
    public void GreedyStories260KPrintsTheDocumentedText()
    {
        var result = CliProcess.Run("generate", "--model", SharedModels.Stories260KFolder, "--temperature", "0", "--max-tokens", "256");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith(DocumentedGreedyText, result.StdOut);
    }

    [Fact]
    public void SamplingIsReproducibleWithASeed()
    {
        string[] args = ["generate", "--model", SharedModels.Stories260KFolder, "--temperature", "1", "--top-p", "0.9", "--seed", "7", "--max-tokens", "40"];
        var first = CliProcess.Run(args);
        var second = CliProcess.Run(args);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.StdOut, second.StdOut);
        Assert.NotEqual(DocumentedGreedyText[..60], first.StdOut[..Math.Min(60, first.StdOut.Length)]);
    }

    [Theory]
    [InlineData("--max-tokens", "0", "--max-tokens")]
    [InlineData("--temperature", "-1", "--temperature")]
    [InlineData("--top-p", "1.5", "--top-p")]
    [InlineData("--wbits", "1", "bits")]
    public void ImpossibleOptionsGiveOneClearError(string option, string value, string named)
    {
        var result = CliProcess.Run("generate", "--model", SharedModels.Stories260KFolder, option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }
}
