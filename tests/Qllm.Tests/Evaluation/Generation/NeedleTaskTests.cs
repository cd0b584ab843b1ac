using Qllm.Common;
using Qllm.Evaluation.Generation;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Evaluation.Generation;

/// <summary>The needle protocol of qllm-infer (utils/needle_in_a_haystack/needle_in_a_haystack_example.py).</summary>
public class NeedleTaskTests
{
    private static string Data => SharedData.Path("data");

    [Fact]
    public void TheFullPromptIsPrefixFiveHaystacksNeedleFiveHaystacksPostfix()
    {
        string haystack = NeedleTask.LoadHaystack(NeedleTask.HaystackPath(Data));
        var needles = NeedleTask.LoadNeedles(NeedleTask.NeedlesPath(Data));
        Assert.Equal(["47x291", "8a3605", "1294k8", "590p37", "68v423"], needles.Select(n => n.Target));

        var lines = NeedleTask.RepeatedLines(haystack);
        Assert.Equal(5 * 127, lines.Count);
        string five = string.Concat(Enumerable.Repeat(haystack, 5));
        string expected = "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.\n"
            + five + "The pass key is 47x291. Remember it. 47x291 is the pass key.\n" + five + "What is the pass key? The pass key is ";
        Assert.Equal(expected, NeedleTask.BuildPrompt(lines, needles[0], lines.Count));
        Assert.Equal(NeedleTask.PromptPrefix + lines[0] + lines[1] + needles[0].Input + lines[0] + lines[1] + NeedleTask.PromptPostfix,
            NeedleTask.BuildPrompt(lines, needles[0], 2));
    }

    [Fact]
    public void OnStories260KTheHaystackIsCutToFitFiveHundredTwelvePositions()
    {
        var tokenizer = Llama2cTokenizer.Load(SharedModels.Stories260KTokenizer);
        var result = NeedleTask.Run(SharedModels.Stories260K, tokenizer, Data);
        Assert.Equal(5, result.Samples.Count);
        var lines = NeedleTask.RepeatedLines(NeedleTask.LoadHaystack(NeedleTask.HaystackPath(Data)));
        foreach (var sample in result.Samples)
        {
            int newTokens = tokenizer.Encode(sample.Target).Length; // BOS included, as qllm-infer counts
            Assert.True(sample.Shortened);
            Assert.True(sample.PromptTokens + newTokens <= 512);
            // One more line on each side would not fit.
            var needle = new Needle($"The pass key is {sample.Target}. Remember it. {sample.Target} is the pass key.\n", sample.Target);
            Assert.True(tokenizer.Encode(NeedleTask.BuildPrompt(lines, needle, sample.HaystackLines + 1)).Length + newTokens > 512);
            Assert.Equal(sample.Answer.Contains(sample.Target), sample.Passed);
            Assert.True(sample.NewTokens <= newTokens);
        }
    }

    [Fact]
    public void BadFilesNameTheFileAndLine()
    {
        using var folder = new TempFolder();
        string needles = folder.File("needle_examples.jsonl");
        File.WriteAllText(needles, "{\"input\":\"k\",\"target\":\"1\"}\n{\"input\":\"k\"}\n");
        var error = Assert.Throws<ModelFormatException>(() => NeedleTask.LoadNeedles(needles));
        Assert.Contains(needles, error.Message);
        Assert.Contains("line 2", error.Message);

        string haystack = folder.File("haystack_example.jsonl");
        File.WriteAllText(haystack, "{\"input\":\n\"a\"");
        error = Assert.Throws<ModelFormatException>(() => NeedleTask.LoadHaystack(haystack));
        Assert.Contains(haystack, error.Message);
        Assert.Contains("line 2", error.Message);
        File.WriteAllText(haystack, "{\"text\":\"a\"}");
        Assert.Contains("'input'", Assert.Throws<ModelFormatException>(() => NeedleTask.LoadHaystack(haystack)).Message);
    }
}
