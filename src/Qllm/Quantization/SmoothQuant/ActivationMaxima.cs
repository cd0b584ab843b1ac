using Qllm.Calibration;
using Qllm.Common;
using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Quantization.SmoothQuant;

/// <summary>
/// max|X_j| at the input of every <see cref="NormFedGroup"/> of a model, indexed [block][group]: the statistic
/// SmoothQuant's scales are made from. Collected as the reference's get_act_scales does: ordinary forward passes of
/// the full-precision model over the calibration windows, one window at a time, observed at the group's first linear
/// (q_proj, gate_proj, fc1: its siblings read the same input).
/// </summary>
public sealed record ActivationMaxima(IReadOnlyList<IReadOnlyList<float[]>> PerBlock)
{
    public static ActivationMaxima Collect(CausalLanguageModel model, CalibrationSet set, IProgress<int>? windowsDone = null)
    {
        var groups = NormFedGroups(model);
        var observers = groups.Select(block => block.Select(g => new ActivationMaxObserver(g.Norm.Weight.Length)).ToArray()).ToArray();
        for (int b = 0; b < groups.Count; b++)
            for (int g = 0; g < groups[b].Count; g++) groups[b][g].Linears[0].Hooks.Add(observers[b][g]);
        try
        {
            for (int s = 0; s < set.Samples; s++)
            {
                model.ForwardHidden(set.Sample(s), 1, set.SeqLen);
                windowsDone?.Report(s + 1);
            }
        }
        finally
        {
            for (int b = 0; b < groups.Count; b++)
                for (int g = 0; g < groups[b].Count; g++) groups[b][g].Linears[0].Hooks.Remove(observers[b][g]);
        }
        return new ActivationMaxima(observers.Select(block => (IReadOnlyList<float[]>)block.Select(o => o.Maxima()).ToArray()).ToArray());
    }

    /// <summary>Every block's norm-fed groups; a block without any (post-LN OPT) cannot be smoothed and is refused by name.</summary>
    public static IReadOnlyList<IReadOnlyList<NormFedGroup>> NormFedGroups(CausalLanguageModel model) =>
        model.Blocks.Select(block => block is INormFedBlock { NormFedGroups.Count: > 0 } fed
            ? fed.NormFedGroups
            : throw new QllmException($"--smooth: block {block.Index} has no normalisation feeding its linear layers alone " +
                "(post-LayerNorm OPT); SmoothQuant has nowhere to fold its scales.")).ToArray();
}
