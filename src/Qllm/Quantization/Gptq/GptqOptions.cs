using Qllm.Common;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// GPTQ settings (Frantar et al. 2022; the reference's fasterquant arguments): the grid, the Hessian damping as a
/// fraction of its mean diagonal, the lazy-batch block size (Section 3, "Lazy Batch-Updates"), act-order (process
/// columns by decreasing Hessian diagonal) and static groups (all group grids fixed up front from the original W).
/// </summary>
public sealed record GptqOptions(QuantSpec Spec, double PercDamp = 0.01, int BlockSize = 128, bool ActOrder = false, bool StaticGroups = false)
{
    public void Validate()
    {
        Spec.Validate();
        // Zero damping would make the 10× retry on a singular H useless, and more than the mean diagonal
        // itself washes out the second-order information GPTQ exists to use.
        if (!(PercDamp > 0 && PercDamp <= 1)) throw new QllmException($"--percdamp must be in (0, 1], got {PercDamp}.");
        if (BlockSize < 1) throw new QllmException($"--blocksize must be at least 1, got {BlockSize}.");
        if (StaticGroups && Spec.GroupSize <= 0)
            throw new QllmException("--static-groups needs --wgroup > 0: static groups fix one grid per group of columns.");
    }

    public string Describe() =>
        $"gptq {Spec.Describe()} damp {PercDamp:G3} block {BlockSize}{(ActOrder ? " act-order" : "")}{(StaticGroups ? " static-groups" : "")}";
}
