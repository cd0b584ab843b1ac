using System.Buffers;
using Qllm.Models.Layers;

namespace Qllm.Quantization;

/// <summary>
/// Dynamic activation fake-quantization in front of any linear layer: the input is put on the grid of
/// <see cref="Quantizer"/> (computed afresh for each call: GPTQ-style <see cref="ActivationQuantSpec"/> grids per
/// tensor or per token, ZeroQuant's token-wise absmax grid, …), then passed to the wrapped layer. The caller's input
/// is never modified.
/// </summary>
public sealed class ActivationQuantizedLinear(ILinear inner, IFakeQuantizer quantizer) : ILinear
{
    public ILinear Inner { get; } = inner;
    public IFakeQuantizer Quantizer { get; } = quantizer;
    public int InFeatures => Inner.InFeatures;
    public int OutFeatures => Inner.OutFeatures;
    public string Kind => $"{Inner.Kind} + {Quantizer.Describe()}";
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
            Quantizer.Apply(quantized, rows, InFeatures);
            Inner.Forward(quantized, output, rows);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }
}
