namespace Qllm.Evaluation.Harness;

/// <summary>The log-likelihood and greediness of target tokens from their rows of logits.</summary>
public static class ContinuationScore
{
    /// <summary>
    /// Σ_r log_softmax(logits_r)[target_r] (in double), and whether each target is the row's argmax (the first
    /// maximum on ties, as torch.argmax).
    /// </summary>
    public static LoglikelihoodResult Of(ReadOnlySpan<float> logits, int vocab, ReadOnlySpan<int> targets)
    {
        double total = 0;
        bool greedy = true;
        for (int r = 0; r < targets.Length; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            int argmax = 0;
            for (int v = 1; v < vocab; v++)
                if (row[v] > row[argmax]) argmax = v;
            double max = row[argmax], sum = 0;
            for (int v = 0; v < vocab; v++) sum += Math.Exp(row[v] - max);
            total += row[targets[r]] - max - Math.Log(sum);
            greedy &= argmax == targets[r];
        }
        return new LoglikelihoodResult(total, greedy);
    }
}
