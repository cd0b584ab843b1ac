using Qllm.Evaluation;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Evaluation;

public class PerplexityEvaluatorTests
{
    private static int[] Tokens(int count, int vocab) => Enumerable.Range(0, count).Select(i => (i * 7 + 3) % vocab).ToArray();

    [Fact]
    public void UniformLogitsGiveThePerplexityOfTheVocabularySize()
    {
        // A zero LM head makes every logit 0: each token has probability 1/V, so ppl = V exactly.
        var model = TinyModels.Llama(vocab: 32, zeroHead: true);
        var result = PerplexityEvaluator.Evaluate(model, "uniform", Tokens(100, 32), 20);
        // Exact up to float32 rounding of the vectorised exp/sum (relative 1e-6).
        Assert.Equal(32.0, result.Perplexity, 32.0 * 1e-6);
    }

    [Fact]
    public void NonOverlappingWindowsDropTheRemainder()
    {
        var model = TinyModels.Llama();
        var result = PerplexityEvaluator.Evaluate(model, "t", Tokens(1000, 32), 30);
        Assert.Equal(33, result.Windows);         // 1000 // 30
        Assert.Equal(1000, result.Tokens);
        var capped = PerplexityEvaluator.Evaluate(model, "t", Tokens(1000, 32), 30, maxWindows: 4);
        Assert.Equal(4, capped.Windows);
    }

    [Fact]
    public void MatchesGptqFormulaComputedFromFullLogits()
    {
        // Independent computation: full logits, log-softmax in double, mean over the shifted tokens of each
        // window, then exp(Σ mean·seqlen / (windows·seqlen)) as GPTQ's opt_eval/llama_eval.
        var model = TinyModels.Llama();
        int seqLen = 24, vocab = 32;
        int[] tokens = Tokens(24 * 3 + 5, vocab);
        double total = 0;
        for (int w = 0; w < 3; w++)
        {
            var window = tokens.AsSpan(w * seqLen, seqLen).ToArray();
            float[] logits = model.Forward(window, 1, seqLen);
            double sum = 0;
            for (int t = 0; t < seqLen - 1; t++)
            {
                var row = logits.AsSpan(t * vocab, vocab).ToArray();
                double max = row.Max();
                double logZ = max + Math.Log(row.Sum(x => Math.Exp(x - max)));
                sum += logZ - row[window[t + 1]];
            }
            total += sum / (seqLen - 1) * seqLen;
        }
        double expected = Math.Exp(total / (3.0 * seqLen));
        var result = PerplexityEvaluator.Evaluate(model, "t", tokens, seqLen);
        Assert.Equal(expected, result.Perplexity, expected * 1e-6);
    }

    [Fact]
    public void TooFewTokensForOneWindowIsAClearError()
    {
        var e = Assert.Throws<Qllm.Common.QllmException>(() => PerplexityEvaluator.Evaluate(TinyModels.Llama(), "short", Tokens(10, 32), 20));
        Assert.Contains("short", e.Message);
    }
}
