using Qllm.Common;
using Qllm.Models.Layers;

namespace Qllm.Models;

/// <summary>How a model's full-precision linear layers hold their weights: fp32, or bf16 (half the bytes, fp32 arithmetic).</summary>
public static class WeightStorage
{
    public static readonly IReadOnlyList<string> Names = ["f32", "bf16"];

    /// <summary>Stores every dense block linear and the LM head as bf16 (rounded to nearest even), in place.</summary>
    public static void Apply(CausalLanguageModel model, string dtype)
    {
        switch (dtype)
        {
            case "f32": return;
            case "bf16":
                foreach (var slot in model.BlockLinears().Append(model.Head))
                    if (slot.Layer is DenseLinear dense) slot.Layer = Bf16Linear.From(dense);
                return;
            default:
                throw new QllmException($"--weight-dtype: '{dtype}' is not one of {string.Join(", ", Names)}.");
        }
    }
}
