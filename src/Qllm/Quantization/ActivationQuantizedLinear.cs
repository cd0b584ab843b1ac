using System.Buffers;
using Qllm.Models.Layers;

namespace Qllm.Quantization;

/// <summary>
/// Dynamic activation fake-quantization in front of any linear layer: the input is quantized to the
/// grid of <see cref="ActivationQuantSpec"/> (computed afresh for each call, per tensor or per token),
/// then passed to the wrapped layer. The caller's input is never modified.
/// </summary>
public sealed class ActivationQuantizedLinear(ILinear inner, ActivationQuantSpec spec) : ILinear
{
    public ILinear Inner { get; } = inner;
    public ActivationQuantSpec Spec { get; } = spec;
    public int InFeatures => Inner.InFeatures;
    public int OutFeatures => Inner.OutFeatures;
    public string Kind => $"{Inner.Kind} + {Spec.Describe()}";
    public long StorageBytes => Inner.StorageBytes;
    public long ParameterCount => Inner.ParameterCount;

    public void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        int length = rows * InFeatures;
        float[] buffer = ArrayPool<float>.Shared.Rent(length);
        try
        {
            var quantized = buffer.AsSpan(0, length);
            input[..length].CopyTo(quantized);
            ActivationQuantizer.FakeQuantize(quantized, rows, InFeatures, Spec);
            Inner.Forward(quantized, output, rows);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }
}
