namespace Qllm.Models.Layers;

/// <summary>
/// A normalisation layer and the linear layers that read its output and nothing else (LLaMA: input norm → q/k/v,
/// post-attention norm → gate/up; pre-LN OPT: attention LayerNorm → q/k/v, final LayerNorm → fc1). Because no
/// residual path reads the norm's output, a per-channel factor can move between the norm's weight (and bias) and
/// the linears' input columns without changing the block's function (SmoothQuant, Xiao et al. 2022, §4).
/// </summary>
public sealed record NormFedGroup(INormLayer Norm, IReadOnlyList<LinearSlot> Linears);

/// <summary>A decoder block that exposes its <see cref="NormFedGroup"/>s, in execution order.</summary>
public interface INormFedBlock
{
    /// <summary>Empty when no norm feeds linear layers alone (post-LayerNorm OPT, where the norm's output is also the residual).</summary>
    IReadOnlyList<NormFedGroup> NormFedGroups { get; }
}
