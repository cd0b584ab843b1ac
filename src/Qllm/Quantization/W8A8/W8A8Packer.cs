using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Quantization.W8A8;

/// <summary>
/// Turns a W8A8 fake-quant model into one that runs on the int8 kernel: every slot holding an
/// <see cref="ActivationQuantizedLinear"/> over a <see cref="DenseLinear"/> whose codes are known (what RTN or GPTQ
/// returned, <see cref="WeightOnlyResult.Weights"/>) becomes an <see cref="Int8Linear"/> with the same grids.
/// The codes are checked to dequantize to the layer's weights bit for bit, so the packed model computes the
/// function the simulation computed (up to the fp32 summation order), never silently another one.
/// </summary>
public static class W8A8Packer
{
    /// <returns>How many layers were packed.</returns>
    public static int Pack(CausalLanguageModel model, IReadOnlyDictionary<string, QuantizedWeight> codes)
    {
        int packed = 0;
        foreach (var slot in model.BlockLinears().Append(model.Head))
        {
            if (slot.Layer is not ActivationQuantizedLinear { Inner: DenseLinear dense, Quantizer: ActivationQuantSpec spec } || !codes.TryGetValue(slot.Name, out var weight)) continue;
            if (weight.Rows != dense.OutFeatures || weight.Columns != dense.InFeatures || !weight.Dequantize().AsSpan().SequenceEqual(dense.Weight))
                throw new InvalidOperationException($"{slot.Name}: the codes given do not dequantize to the layer's weights.");
            slot.Layer = new Int8Linear(weight, dense.Bias, spec);
            packed++;
        }
        return packed;
    }
}
