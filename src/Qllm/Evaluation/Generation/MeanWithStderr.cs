using Qllm.Evaluation.Tasks;

namespace Qllm.Evaluation.Generation;

/// <summary>A mean over examples with lm-eval's standard error (<see cref="MeanMetric.StandardError"/>).</summary>
public readonly record struct MeanWithStderr(double Mean, double Stderr, int Count)
{
    public static MeanWithStderr Of(IReadOnlyCollection<double> values) =>
        new(MeanMetric.Mean(values), MeanMetric.StandardError(values), values.Count);
}
