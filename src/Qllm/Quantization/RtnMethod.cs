using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Quantization;

/// <summary>
/// Round-to-nearest quantization of a whole model, the baseline of every PTQ paper: each decoder-block
/// linear layer's weights are put on the <see cref="QuantSpec"/> grid (fake-quant, fp32 values), and
/// optionally its input activations are quantized dynamically. Embeddings and the LM head stay in full
/// precision unless <c>includeHead</c> is set.
/// </summary>
public static class RtnMethod
{
    public static void Apply(CausalLanguageModel model, QuantSpec? weights, ActivationQuantSpec? activations, bool includeHead = false)
    {
        var slots = model.BlockLinears().ToList();
        if (includeHead) slots.Add(model.Head);
        foreach (var slot in slots)
        {
            if (weights != null) slot.Layer = FakeQuantize(slot.Layer, weights);
            if (activations != null) slot.Layer = new ActivationQuantizedLinear(slot.Layer, activations);
        }
    }

    /// <summary>A dense copy of the layer with its weights on the grid; the original layer is left untouched.</summary>
    public static DenseLinear FakeQuantize(ILinear layer, QuantSpec spec)
    {
        if (layer is not DenseLinear dense)
            throw new InvalidOperationException($"RTN needs a full-precision layer, found '{layer.Kind}'.");
        float[] weight = (float[])dense.Weight.Clone();
        WeightQuantizer.FakeQuantize(weight, dense.OutFeatures, dense.InFeatures, spec);
        return new DenseLinear(weight, dense.OutFeatures, dense.InFeatures, dense.Bias, $"fake-quant {spec.Describe()}");
    }
}
