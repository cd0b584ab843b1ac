using System.Buffers;
using Qllm.Models.Layers;

namespace Qllm.Quantization;

/// <summary>
/// Any <see cref="IFakeQuantizer"/> applied to the input of a linear layer (e.g. ZeroQuant's token-wise activation
/// grid) before the wrapped layer runs; the caller's input is never modified. <see cref="ActivationQuantizedLinear"/>
/// is the same seam for the GPTQ-style <see cref="ActivationQuantSpec"/> grids.
/// </summary>
public sealed class InputQuantizedLinear(ILinear inner, IFakeQuantizer quantizer) : ILinear
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
