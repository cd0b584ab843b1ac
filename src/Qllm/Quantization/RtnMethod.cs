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

    /// <summary>
    /// Weight-only RTN that keeps the integer codes: each block linear becomes a packed low-bit layer (or, with
    /// <paramref name="simulate"/>, a dense layer of the dequantized values), and the codes are returned for saving.
    /// </summary>
    public static WeightOnlyResult QuantizeWeights(CausalLanguageModel model, QuantSpec spec, bool simulate)
    {
        var result = new WeightOnlyResult();
        foreach (var slot in model.BlockLinears())
        {
            if (slot.Layer is not DenseLinear dense)
                throw new InvalidOperationException($"RTN needs a full-precision layer at {slot.Name}, found '{slot.Layer.Kind}'.");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var codes = WeightQuantizer.Quantize(dense.Weight, dense.OutFeatures, dense.InFeatures, spec);
            float[] dequantized = codes.Dequantize();
            double error = 0;
            for (int i = 0; i < dequantized.Length; i++)
            {
                double difference = dense.Weight[i] - dequantized[i];
                error += difference * difference;
            }
            slot.Layer = WeightOnlyResult.MakeLayer(codes, dense.Bias, simulate);
            result.Weights[slot.Name] = codes;
            result.Layers.Add(new QuantizedLayerReport(slot.Name, dense.OutFeatures, dense.InFeatures, error, 0, 0, clock.Elapsed.TotalSeconds));
        }
        return result;
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
