using System.Buffers;
using System.Diagnostics;
using Qllm.Common;
using Qllm.Models;
using Qllm.Tensors;

namespace Qllm.Evaluation;

public sealed record PerplexityResult(string Dataset, double Perplexity, long Tokens, int Windows, int SeqLen, double Seconds)
{
    /// <summary>Tokens run through the model per second (windows × seqlen / seconds).</summary>
    public double TokensPerSecond => Windows * (double)SeqLen / Seconds;
}

/// <summary>Progress of a perplexity run: windows done of the total.</summary>
public readonly record struct PerplexityProgress(int WindowsDone, int WindowsTotal, double Seconds);

/// <summary>
/// Perplexity exactly as GPTQ's evaluation loop computes it: the whole corpus tokenized once, cut into
/// non-overlapping windows of seqlen tokens (the remainder dropped), each window scored on its own with
/// the logits shifted by one, and ppl = exp(Σ_w meanNLL_w · seqlen / (windows · seqlen)).
/// Logits are formed a block of rows at a time, never as a seqlen × vocab matrix at once.
/// </summary>
public static class PerplexityEvaluator
{
    private const int LogitFloatsPerBlock = 1 << 22; // 16 MB of logits at a time

    public static PerplexityResult Evaluate(CausalLanguageModel model, string dataset, int[] tokens, int seqLen,
        int? maxWindows = null, IProgress<PerplexityProgress>? progress = null)
    {
        if (seqLen < 2) throw new QllmException($"--seqlen must be at least 2, got {seqLen}.");
        int windows = tokens.Length / seqLen;
        if (maxWindows is int cap) windows = Math.Min(windows, cap);
        if (windows == 0)
            throw new QllmException($"data set '{dataset}' has {tokens.Length} tokens, fewer than one window of {seqLen}.");

        var clock = Stopwatch.StartNew();
        double nllSum = 0;
        for (int w = 0; w < windows; w++)
        {
            var window = tokens.AsSpan(w * seqLen, seqLen);
            nllSum += MeanNll(model, window) * seqLen;
            progress?.Report(new PerplexityProgress(w + 1, windows, clock.Elapsed.TotalSeconds));
        }
        double ppl = Math.Exp(nllSum / ((double)windows * seqLen));
        return new PerplexityResult(dataset, ppl, tokens.Length, windows, seqLen, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Mean negative log-likelihood of tokens 1..T−1 given their prefixes (CrossEntropyLoss over shifted logits).</summary>
    public static double MeanNll(CausalLanguageModel model, ReadOnlySpan<int> window)
    {
        int t = window.Length, vocab = model.Config.VocabSize, d = model.Config.HeadInputDim;
        float[] headInput = model.ForwardHidden(window, 1, t);
        int[] targets = window[1..].ToArray();
        int blockRows = Math.Max(1, LogitFloatsPerBlock / vocab);
        float[] logits = ArrayPool<float>.Shared.Rent(blockRows * vocab);
        var rowNll = new double[t - 1];
        try
        {
            for (int start = 0; start < t - 1; start += blockRows)
            {
                int rows = Math.Min(blockRows, t - 1 - start);
                model.Logits(headInput.AsSpan(start * d, rows * d), logits, rows);
                int first = start;
                Compute.For(rows, rows * (long)vocab > 1 << 16, r =>
                {
                    float[] scratch = ArrayPool<float>.Shared.Rent(vocab);
                    rowNll[first + r] = Elementwise.NegativeLogLikelihood(logits.AsSpan(r * vocab, vocab), targets[first + r], scratch);
                    ArrayPool<float>.Shared.Return(scratch);
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(logits);
        }
        return rowNll.Sum() / (t - 1);
    }
}
