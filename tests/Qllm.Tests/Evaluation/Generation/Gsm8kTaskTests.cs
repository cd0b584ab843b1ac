using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Evaluation.Generation;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Evaluation.Generation;

/// <summary>
/// GSM8K against lm-evaluation-harness's semantics. The golden values come from tests/oracles/gsm8k_oracle.py, which
/// rebuilds lm-eval's prompt, few-shot draw (CPython's random.Random(1234).sample), regex filters and exact_match
/// normalisation with CPython's own random and re modules; its output is tests/oracles/gsm8k_golden.json.
/// </summary>
public class Gsm8kTaskTests
{
    private static readonly JsonNode Golden = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "oracles", "gsm8k_golden.json")))!;
    private static string Data => SharedData.Path("data");

    [Fact]
    public void FewShotDrawsMatchCPythonsRandomSample()
    {
        var random = new PythonRandom(1234);
        var expected = Golden["fewshot_indices"]!.AsArray();
        foreach (var draw in expected) Assert.Equal(draw!.AsArray().Select(i => i!.GetValue<int>()), random.Sample(7473, 5));
    }

    [Fact]
    public void SmallPopulationsUseThePoolAlgorithmLikeCPython()
    {
        // python3 -c "import random; r=random.Random(1234); print(r.sample(range(10), 4), r.sample(range(21), 21)[:5])"
        var random = new PythonRandom(1234);
        Assert.Equal([7, 1, 0, 9], random.Sample(10, 4));
        Assert.Equal([18, 1, 2, 3, 11], random.Sample(21, 21)[..5]);
    }

    [Fact]
    public void PromptsOfTheFirstTwoDocumentsAreLmEvalsFiveShotPrompts()
    {
        var test = Gsm8kTask.Load(Gsm8kTask.TestPath(Data));
        var train = Gsm8kTask.Load(Gsm8kTask.TrainPath(Data));
        var prompts = Gsm8kTask.Prompts(test, train, 2, numFewshot: 5, seed: 1234);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(Golden["prompts"]![i]!.GetValue<string>(), prompts[i].Prompt);
            Assert.Equal(Golden["fewshot_indices"]![i]!.AsArray().Select(n => n!.GetValue<int>()), prompts[i].FewshotIndices);
        }
        Assert.StartsWith("Question: ", prompts[0].Prompt);
        Assert.EndsWith("\nAnswer:", prompts[0].Prompt);
        Assert.Equal(6, prompts[1].Prompt.Split("Question: ").Length - 1);
    }

    [Fact]
    public void ZeroShotIsTheBareQuestion()
    {
        var doc = new Gsm8kDocument("How many?", "2 + 2 = 4\n#### 4");
        var prompt = Gsm8kTask.Prompts([doc], [doc], 1, numFewshot: 0, seed: 1234)[0].Prompt;
        Assert.Equal("Question: How many?\nAnswer:", prompt);
    }

    [Fact]
    public void FiltersAndNormalisationAgreeWithLmEvalsRegexesOnTrickyAnswers()
    {
        var tricky = Golden["tricky"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        for (int i = 0; i < tricky.Count; i++)
        {
            string strict = Gsm8kTask.StrictMatch.Apply(tricky[i]), flexible = Gsm8kTask.FlexibleExtract.Apply(tricky[i]);
            Assert.Equal(Golden["strict"]![i]!.GetValue<string>(), strict);
            Assert.Equal(Golden["flexible"]![i]!.GetValue<string>(), flexible);
            Assert.Equal(Golden["normalized_strict"]![i]!.GetValue<string>(), Gsm8kTask.Metric.Normalize(strict));
            Assert.Equal(Golden["normalized_flexible"]![i]!.GetValue<string>(), Gsm8kTask.Metric.Normalize(flexible));
        }
        Assert.Equal(Golden["normalized_reference"]!.GetValue<string>(), Gsm8kTask.Metric.Normalize(Golden["reference"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("The answer is $1,234.50.", "#### 1234.50", false, true)]   // strict finds no "####"; flexible "$1,234.50." → "1234.50"
    [InlineData("so 18 eggs.\n#### 18", "#### 18", true, true)]
    [InlineData("#### 18.", "... \n#### 18", true, true)]                   // the final "." is ignored
    [InlineData("It is 18 or 19", "#### 18", false, false)]                  // flexible takes the last number
    public void ExactMatchScoresBothFilters(string completion, string answer, bool strictCorrect, bool flexibleCorrect)
    {
        Assert.Equal(strictCorrect, Gsm8kTask.Metric.Matches(Gsm8kTask.StrictMatch.Apply(completion), answer));
        Assert.Equal(flexibleCorrect, Gsm8kTask.Metric.Matches(Gsm8kTask.FlexibleExtract.Apply(completion), answer));
    }

    [Fact]
    public void AMalformedLineNamesTheFileAndLine()
    {
        using var folder = new TempFolder();
        string path = folder.File("test.jsonl");
        File.WriteAllText(path, "{\"question\":\"q\",\"answer\":\"#### 1\"}\n{\"question\":\"q2\"}\n");
        var error = Assert.Throws<ModelFormatException>(() => Gsm8kTask.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("line 2", error.Message);
        Assert.Contains("answer", error.Message);

        File.WriteAllText(path, "{\"question\":\"q\",\"answer\":\"#### 1\"}\n\n{not json\n");
        error = Assert.Throws<ModelFormatException>(() => Gsm8kTask.Load(path));
        Assert.Contains("line 3", error.Message);
        Assert.Throws<ModelFormatException>(() => Gsm8kTask.Load(folder.File("missing.jsonl")));
    }

    [Fact]
    public void RunsOnStories260KWithTheContextLeftTruncated()
    {
        var result = Gsm8kTask.Run(SharedModels.Stories260K, Qllm.Tokenizers.Llama2cTokenizer.Load(SharedModels.Stories260KTokenizer), Data,
            new Gsm8kOptions(Limit: 2, MaxGenTokens: 32));
        Assert.Equal(2, result.Samples.Count);
        foreach (var sample in result.Samples)
        {
            Assert.Equal(512 - 32, sample.PromptTokens); // five shots are far longer than 480 tokens
            Assert.True(sample.TruncatedTokens > 0);
            Assert.DoesNotContain("Question:", sample.Completion);
        }
        Assert.InRange(result.StrictMatch.Mean, 0, 1);
    }
}
