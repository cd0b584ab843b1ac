namespace Qllm.Evaluation.Generation;

/// <summary>A mean over examples with lm-eval's standard error (<c>mean_stderr</c>: the sample standard deviation, n − 1, over √n).</summary>
public readonly record struct MeanWithStderr(double Mean, double Stderr, int Count)
{
    public static MeanWithStderr Of(IReadOnlyCollection<double> values)
    {
        int n = values.Count;
        if (n == 0) return new MeanWithStderr(double.NaN, double.NaN, 0);
        double mean = values.Average();
        double stderr = n > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1) / n) : double.NaN;
        return new MeanWithStderr(mean, stderr, n);
    }
}
