using Qllm.Models.Layers;

namespace Qllm.Quantization.SmoothQuant;

/// <summary>
/// Folds smoothing factors into a <see cref="NormFedGroup"/> (SmoothQuant Eq. 3: Y = (X diag(s)⁻¹)(diag(s) W)):
/// the norm's weight and bias are divided by s (so its output is X/s), and every following linear layer gets
/// a new dense weight whose input column j is multiplied by s_j. The function of the block is unchanged; the
/// norm is edited in place, the linears' old weights are left untouched (a sweep restores them).
/// </summary>
public static class SmoothingFold
{
    public static void Apply(NormFedGroup group, ReadOnlySpan<float> scales)
    {
        var norm = group.Norm;
        if (norm.Weight.Length != scales.Length)
            throw new ArgumentException($"the norm has {norm.Weight.Length} channels, the scales {scales.Length}.");
        var layers = DenseLayers(group);
        for (int j = 0; j < scales.Length; j++)
        {
            norm.Weight[j] /= scales[j];
            if (norm.Bias != null) norm.Bias[j] /= scales[j];
        }
        for (int i = 0; i < layers.Count; i++)
        {
            var dense = layers[i];
            var weight = (float[])dense.Weight.Clone();
            int columns = dense.InFeatures;
            for (int r = 0; r < dense.OutFeatures; r++)
            {
                var row = weight.AsSpan(r * columns, columns);
                for (int j = 0; j < columns; j++) row[j] *= scales[j];
            }
            group.Linears[i].Layer = new DenseLinear(weight, dense.OutFeatures, columns, dense.Bias, dense.Kind);
        }
    }

    /// <summary>The group's layers, which must still be full precision: smoothing comes before any quantization.</summary>
    public static IReadOnlyList<DenseLinear> DenseLayers(NormFedGroup group) =>
        group.Linears.Select(slot => slot.Layer as DenseLinear
            ?? throw new InvalidOperationException($"SmoothQuant needs a full-precision layer at {slot.Name}, found '{slot.Layer.Kind}'; smooth before quantizing.")).ToArray();
}
