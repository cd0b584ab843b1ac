using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Quantization.LlmInt8;

/// <summary>
/// Puts every decoder-block linear layer behind <see cref="LlmInt8Linear"/>; the LM head stays in full precision,
/// as transformers' load_in_8bit skips lm_head. The layers must be dense (fp32, or fake-quant weights).
/// </summary>
public static class LlmInt8Method
{
    public static void Apply(CausalLanguageModel model, float threshold)
    {
        foreach (var slot in model.BlockLinears())
            slot.Layer = slot.Layer is DenseLinear dense
                ? new LlmInt8Linear(dense, threshold)
                : throw new InvalidOperationException($"LLM.int8() needs a dense layer at {slot.Name}, found '{slot.Layer.Kind}'.");
    }

    /// <summary>Outlier columns per forward call, averaged over calls, for each LLM.int8 layer of the model (by name).</summary>
    public static IReadOnlyList<(string Name, int Columns, double MeanOutlierColumns)> OutlierColumns(CausalLanguageModel model) =>
        model.BlockLinears().Where(s => s.Layer is LlmInt8Linear).Select(slot =>
        {
            var layer = (LlmInt8Linear)slot.Layer;
            var (calls, columns) = layer.Statistics;
            return (slot.Name, layer.InFeatures, calls == 0 ? 0.0 : columns / (double)calls);
        }).ToArray();
}
