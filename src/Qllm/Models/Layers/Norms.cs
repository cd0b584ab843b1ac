using Qllm.Tensors;

namespace Qllm.Models.Layers;

/// <summary>A normalisation layer whose weight (and bias) a method such as SmoothQuant may rescale in place.</summary>
public interface INormLayer
{
    float[] Weight { get; }
    float[]? Bias { get; }
    void Forward(ReadOnlySpan<float> input, Span<float> output, int rows);
}

public sealed class RmsNormLayer(float[] weight, float eps) : INormLayer
{
    public float[] Weight { get; } = weight;
    public float[]? Bias => null;
    public float Eps { get; } = eps;
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int rows) => Elementwise.RmsNorm(input, Weight, output, rows, Eps);
}

public sealed class LayerNormLayer(float[] weight, float[] bias, float eps) : INormLayer
{
    public float[] Weight { get; } = weight;
    public float[]? Bias { get; } = bias;
    public float Eps { get; } = eps;
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int rows) => Elementwise.LayerNorm(input, Weight, Bias, output, rows, Eps);
}
