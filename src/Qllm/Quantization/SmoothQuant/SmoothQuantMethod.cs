using Qllm.Models;

namespace Qllm.Quantization.SmoothQuant;

/// <summary>
/// SmoothQuant (Xiao et al. 2022): migrates activation outliers into the weights, channel by channel, with a
/// mathematically equivalent rescaling, so that both become easy to quantize. As the reference's smooth_lm
/// (mit-han-lab/smoothquant and qllm-infer lib/smoothquant), only the norm-fed inputs are smoothed: q/k/v from the
/// attention norm and gate/up (LLaMA) or fc1 (OPT) from the FFN norm. The inputs of o_proj/out_proj and
/// down_proj/fc2 follow no norm (v→o and up→down folds are not part of the reference) and are left as they are.
/// Run it on the full-precision model, before the weights (and activations) are quantized.
/// </summary>
public static class SmoothQuantMethod
{
    /// <summary>Smooths every block with migration strength <paramref name="alpha"/>; returns the scales, [block][group].</summary>
    public static IReadOnlyList<IReadOnlyList<float[]>> Apply(CausalLanguageModel model, ActivationMaxima maxima, double alpha)
    {
        var groups = ActivationMaxima.NormFedGroups(model);
        if (groups.Count != maxima.PerBlock.Count)
            throw new ArgumentException($"activation maxima cover {maxima.PerBlock.Count} blocks, the model has {groups.Count}.");
        var scales = new List<IReadOnlyList<float[]>>();
        for (int b = 0; b < groups.Count; b++)
        {
            var blockScales = new float[groups[b].Count][];
            for (int g = 0; g < groups[b].Count; g++)
            {
                blockScales[g] = SmoothingScales.Compute(maxima.PerBlock[b][g], SmoothingFold.DenseLayers(groups[b][g]), alpha);
                SmoothingFold.Apply(groups[b][g], blockScales[g]);
            }
            scales.Add(blockScales);
        }
        return scales;
    }
}
