namespace Qllm.Evaluation.Tasks;

/// <summary>lm-eval's aggregations (lm_eval/api/metrics.py): mean, mean_stderr, and the pooled stderr of size-weighted groups.</summary>
public static class MeanMetric
{
    public static double Mean(IReadOnlyCollection<double> values) => values.Count == 0 ? double.NaN : values.Average();

    /// <summary>mean_stderr: the sample standard deviation (n − 1) over √n; NaN for fewer than two values.</summary>
    public static double StandardError(IReadOnlyCollection<double> values)
    {
        int n = values.Count;
        if (n < 2) return double.NaN;
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        return Math.Sqrt(variance / n);
    }

    /// <summary>
    /// pooled_sample_stderr, which lm-eval uses for a group weighted by size:
    /// √( Σ (nᵢ − 1)·seᵢ²·nᵢ / (Σ nᵢ − k) / Σ nᵢ ).
    /// </summary>
    public static double PooledStandardError(IReadOnlyList<(double StandardError, int Size)> groups)
    {
        double total = groups.Sum(g => g.Size);
        double variance = groups.Sum(g => (g.Size - 1) * g.StandardError * g.StandardError * g.Size) / (total - groups.Count);
        return Math.Sqrt(variance / total);
    }

    /// <summary>The metric and its standard error beside it, as lm-eval prints them.</summary>
    public static IEnumerable<KeyValuePair<string, double>> WithStandardError(string name, IReadOnlyCollection<double> values) =>
        [new(name, Mean(values)), new(StandardErrorName(name), StandardError(values))];

    /// <summary>lm-eval's name of a metric's standard error: acc → acc_stderr, "exact_match,strict-match" → "exact_match_stderr,strict-match".</summary>
    public static string StandardErrorName(string metric) =>
        metric.IndexOf(',') is var comma and >= 0 ? metric[..comma] + "_stderr" + metric[comma..] : metric + "_stderr";

    public static bool IsStandardError(string name) => name.Split(',')[0].EndsWith("_stderr", StringComparison.Ordinal);
}
