using Qllm.Evaluation.Harness;
using Qllm.Evaluation.Tasks;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Evaluation.Harness;

public class LoglikelihoodScorerTests
{
    private const int Vocab = 32;
    private static readonly CharTokenizer Tokenizer = new(Vocab);

    /// <summary>A head whose logits ignore the input: +10 for one token, 0 for the rest.</summary>
    private sealed class FavouringHead(int vocab, int inFeatures, int favoured) : ILinear
    {
        public int InFeatures => inFeatures;
        public int OutFeatures => vocab;
        public string Kind => "test";
        public long StorageBytes => 0;
        public long ParameterCount => 0;

        public void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
        {
            output[..(rows * vocab)].Clear();
            for (int r = 0; r < rows; r++) output[r * vocab + favoured] = 10;
        }
    }

    /// <summary>The oracle: one full forward pass over context + continuation, Σ log_softmax at the continuation's positions.</summary>
    private static double Direct(CausalLanguageModel model, int[] context, int[] continuation)
    {
        int[] all = [.. context, .. continuation];
        float[] logits = model.Forward(all, 1, all.Length);
        double total = 0;
        for (int i = 0; i < continuation.Length; i++)
        {
            int row = context.Length - 1 + i;
            var span = logits.AsSpan(row * Vocab, Vocab);
            double max = span.ToArray().Max(), sum = span.ToArray().Sum(v => Math.Exp(v - max));
            total += span[continuation[i]] - max - Math.Log(sum);
        }
        return total;
    }

    private static readonly LoglikelihoodRequest[] Choices =
    [
        new("The cat sat on the", " mat."),
        new("The cat sat on the", " warm windowsill"),
        new("The cat sat on the", " x"),
        new("The cat sat on a hat", " too"),
    ];

    [Fact]
    public void PrefixReuseMatchesScoringFromScratchAndTheDirectForwardPass()
    {
        var model = TinyModels.Llama(vocab: Vocab, maxPositions: 64);
        var reuse = new LoglikelihoodScorer(model, Tokenizer, new LoglikelihoodOptions(BatchSize: 3, ReusePrefix: true));
        var scratch = new LoglikelihoodScorer(model, Tokenizer, new LoglikelihoodOptions(BatchSize: 1, ReusePrefix: false));
        var cached = reuse.Score(Choices);
        var uncached = scratch.Score(Choices);
        for (int i = 0; i < Choices.Length; i++)
        {
            var encoded = reuse.Encode(Choices[i]);
            Assert.Equal(uncached[i].LogLikelihood, cached[i].LogLikelihood, 1e-5);
            Assert.Equal(Direct(model, encoded.Context, encoded.Continuation), cached[i].LogLikelihood, 1e-4);
            Assert.Equal(uncached[i].IsGreedy, cached[i].IsGreedy);
        }
        Assert.True(reuse.ForwardedTokens < scratch.ForwardedTokens, "the shared prefix ran once");
    }

    /// <summary>Questions with shared prefixes of equal and different lengths, one single-request group, and a group of 5.</summary>
    private static readonly LoglikelihoodRequest[][] Questions =
    [
        Choices,
        [new("A dog ran to the", " park"), new("A dog ran to the", " door.")],
        [new("The cat sat on a", " mat"), new("The cat sat on a", " rug"), new("The cat sat on a", " bed and slept")],
        [new("Once upon a", " time")],
        [new("A bird sang in", " the"), new("A bird sang in", " a tree"), new("A bird sang in", " May"), new("A bird sang in", " vain"), new("A bird sang in", " tune")],
        [new("A dog sat by the", " fire"), new("A dog sat by the", " sea")],
    ];

    [Theory]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(8, true)]
    [InlineData(32, true)]
    [InlineData(5, false)]
    [InlineData(32, false)]
    public void BatchingAcrossQuestionsGivesEachQuestionsOwnScores(int batchSize, bool reusePrefix)
    {
        // The oracle: every request alone, from scratch, through the per-group entry point.
        var model = TinyModels.Llama(vocab: Vocab, maxPositions: 64);
        var alone = new LoglikelihoodScorer(model, Tokenizer, new LoglikelihoodOptions(BatchSize: 1, ReusePrefix: false));
        var batched = new LoglikelihoodScorer(model, Tokenizer, new LoglikelihoodOptions(BatchSize: batchSize, ReusePrefix: reusePrefix));
        var progress = new List<int>();
        var results = batched.ScoreGroups(Questions, progress.Add);
        Assert.Equal(Questions.Length, results.Length);
        for (int q = 0; q < Questions.Length; q++)
        {
            Assert.Equal(Questions[q].Length, results[q].Length);
            for (int i = 0; i < Questions[q].Length; i++)
            {
                var expected = alone.Score([Questions[q][i]])[0];
                Assert.Equal(expected.LogLikelihood, results[q][i].LogLikelihood, 1e-5);
                Assert.Equal(expected.IsGreedy, results[q][i].IsGreedy);
            }
        }
        Assert.Equal(Questions.Length, progress[^1]);
        Assert.True(progress.SequenceEqual(progress.Order()), "progress only grows");
    }

    [Fact]
    public void ABatchSpanningQuestionsRunsFewerForwardPassesThanOneQuestionAtATime()
    {
        // 6 questions of 1–5 requests: with batch 32 and no reuse, every request fits one pass (padded to the longest).
        var model = TinyModels.Llama(vocab: Vocab, maxPositions: 64);
        var wide = new LoglikelihoodScorer(model, Tokenizer, new LoglikelihoodOptions(BatchSize: 32, ReusePrefix: false));
        wide.ScoreGroups(Questions);
        int requests = Questions.Sum(q => q.Length), longest = Questions.SelectMany(q => q).Max(r => wide.Window(r).Input.Length);
        Assert.Equal((long)requests * longest, wide.ForwardedTokens);
    }

    [Fact]
    public void LongRequestsAreLeftTruncatedToTheLastMaxLengthPlusOneTokens()
    {
        var model = TinyModels.Llama(vocab: Vocab, maxPositions: 64);
        var scorer = new LoglikelihoodScorer(model, Tokenizer, new LoglikelihoodOptions(MaxLength: 16));
        string context = new string('a', 30) + "bcdefghijklmnop";
        var result = scorer.Score([new LoglikelihoodRequest(context, " qrs")])[0];
        int[] whole = Tokenizer.Encode(context + " qrs", addBos: false);
        int[] window = whole[^17..];   // max_length + 1 tokens, of which the model sees all but the last
        Assert.Equal(Direct(model, window[..^4], window[^4..]), result.LogLikelihood, 1e-4);
    }

    [Fact]
    public void AContinuationLongerThanTheWindowKeepsItsLastMaxLengthTokensAsTargets()
    {
        var window = ScoringWindow.Of(new EncodedRequest([5, 6], [7, 8, 9, 10, 11]), maxLength: 3);
        Assert.Equal([8, 9, 10], window.Input);
        Assert.Equal([9, 10, 11], window.Targets);
    }

    [Fact]
    public void TrailingContextSpaceMovesToTheContinuationAndEmptyContextsStartWithBos()
    {
        var encoder = new RequestEncoder(Tokenizer);
        var moved = encoder.Encode(new LoglikelihoodRequest("Answer: ", "yes"));
        Assert.Equal(Tokenizer.Encode("Answer:", false), moved.Context);
        Assert.Equal(Tokenizer.Encode(" yes", false), moved.Continuation);
        var empty = encoder.Encode(new LoglikelihoodRequest("", "hello"));
        Assert.Equal([1], empty.Context);
        Assert.Equal([1, Tokenizer.Id('a')], new RequestEncoder(Tokenizer, addBos: true).Encode(new LoglikelihoodRequest("a", "x")).Context);
    }

    [Fact]
    public void ContinuationStartsWhereTheContextEncodingEndsWithARealTokenizer()
    {
        var tokenizer = Qllm.Tokenizers.TokenizerLoader.Load(SharedModels.Stories260KTokenizer);
        var encoded = new RequestEncoder(tokenizer).Encode(new LoglikelihoodRequest("Question: Is the sky blue?\nAnswer:", " yes"));
        int[] whole = tokenizer.Encode("Question: Is the sky blue?\nAnswer: yes", addBos: false);
        Assert.Equal(whole[..encoded.Context.Length], encoded.Context);
        Assert.Equal(whole[encoded.Context.Length..], encoded.Continuation);
        Assert.NotEqual(tokenizer.BosId, encoded.Context[0]); // lm-eval's HFLM adds no BOS by default
    }

    private static MultipleChoiceDocument[] Documents(char gold, char other) =>
    [
        MultipleChoiceDocument.SharedContext("Pick one:", [new string(gold, 3), new string(other, 3)], 0),
        MultipleChoiceDocument.SharedContext("Again, pick:", [new string(other, 2), new string(gold, 2), new string(other, 4)], 1),
    ];

    [Theory]
    [InlineData('a', 1.0)]
    [InlineData('b', 0.0)]
    public void AModelThatFavoursTheGoldTokensScoresEverythingAndItsInverseNothing(char favoured, double expected)
    {
        var model = TinyModels.Llama(vocab: Vocab);
        model.Head.Layer = new FavouringHead(Vocab, model.Config.HeadInputDim, Tokenizer.Id(favoured));
        var scorer = new LoglikelihoodScorer(model, Tokenizer, new LoglikelihoodOptions());
        var task = new PiqaTask();
        var outcomes = Documents('a', 'b').Select(d => MultipleChoiceScoring.Score(scorer, d)).ToArray();
        var metrics = task.Metrics(outcomes).ToDictionary();
        Assert.Equal(expected, metrics["acc"]);
        Assert.Equal(expected, metrics["acc_norm"]);
        Assert.Equal(0, metrics["acc_stderr"]);
    }

    [Fact]
    public void AccNormDividesByCharacterLengthSoItDiffersFromAccWhenLengthsDiffer()
    {
        // A zero head: every token costs ln 32, so acc prefers the shortest choice and acc_norm
        // (−(n + 1)·ln 32 / n, the delimiter space included) the longest.
        var model = TinyModels.Llama(vocab: Vocab, zeroHead: true);
        var scorer = new LoglikelihoodScorer(model, Tokenizer, new LoglikelihoodOptions());
        var document = MultipleChoiceDocument.SharedContext("Q:", ["ab", "abcdefgh"], 1);
        var outcome = MultipleChoiceScoring.Score(scorer, document);
        Assert.Equal(-3 * Math.Log(Vocab), outcome.LogLikelihoods[0], 1e-5);
        Assert.Equal(-9 * Math.Log(Vocab), outcome.LogLikelihoods[1], 1e-5);
        Assert.Equal(0, outcome.Acc);
        Assert.Equal(1, outcome.AccNorm);
    }
}
