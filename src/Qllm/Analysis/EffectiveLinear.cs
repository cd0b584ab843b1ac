using Qllm.Common;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Quantization.Packed;

namespace Qllm.Analysis;

/// <summary>
/// What a linear layer computes with, whatever its storage: the weight it effectively multiplies by (a packed
/// layer's codes dequantized, bf16 widened) and the activation quantization applied to its input, if any.
/// </summary>
public static class EffectiveLinear
{
    /// <summary>The effective weight [out, in], row-major; a copy unless the layer is dense (then its own array, not to be edited).</summary>
    public static float[] Weight(ILinear layer) => layer switch
    {
        DenseLinear dense => dense.Weight,
        Bf16Linear bf16 => bf16.Packed.Unpack(),
        PackedLowBitLinear packed => packed.ToQuantizedWeight().Dequantize(),
        ActivationQuantizedLinear wrapped => Weight(wrapped.Inner),
        _ => throw new QllmException($"cannot read the weights of a '{layer.Kind}' layer for analysis."),
    };

    /// <summary>The dynamic activation quantization in front of the layer, or null when its input stays full precision.</summary>
    public static IFakeQuantizer? ActivationQuantization(ILinear layer) =>
        layer is ActivationQuantizedLinear wrapped ? wrapped.Quantizer : null;
}
