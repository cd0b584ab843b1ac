using Qllm.Formats.Gptq;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Quantization;

namespace Qllm.Tests.Formats.Gptq;

/// <summary>RTN-quantized block linears, and what a GPTQ checkpoint of them must load back as.</summary>
internal static class GptqTestSupport
{
    public static Dictionary<string, QuantizedWeight> QuantizeBlocks(CausalLanguageModel model, QuantSpec spec) =>
        model.BlockLinears().ToDictionary(s => s.Name, s =>
        {
            var dense = (DenseLinear)s.Layer;
            return WeightQuantizer.Quantize(dense.Weight, dense.OutFeatures, dense.InFeatures, spec);
        });

    public static GptqCheckpointInfo InfoOf(QuantSpec spec) => new(spec.Bits, spec.GroupSize, Symmetric: spec.Symmetric);

    /// <summary>The weight a checkpoint holds: the codes and zeros as given, the scales rounded to fp16.</summary>
    public static float[] AsSaved(QuantizedWeight q) =>
        (q with { Scales = q.Scales.Select(s => (float)(Half)s).ToArray() }).Dequantize();

    /// <summary>Replaces each block linear by the dense layer of <see cref="AsSaved"/>, keeping its bias.</summary>
    public static void ReplaceWithSaved(CausalLanguageModel model, IReadOnlyDictionary<string, QuantizedWeight> quantized)
    {
        foreach (var slot in model.BlockLinears())
        {
            var q = quantized[slot.Name];
            slot.Layer = new DenseLinear(AsSaved(q), q.Rows, q.Columns, ((DenseLinear)slot.Layer).Bias);
        }
    }
}
