using Qllm.Models.Layers;

namespace Qllm.Models;

/// <summary>
/// One transformer decoder block. The calibration pipeline runs blocks one at a time on captured
/// inputs, so a block is self-contained: it updates the residual stream in place.
/// </summary>
public interface IDecoderBlock
{
    int Index { get; }

    /// <summary>Every linear layer of the block, in execution order; quantizers replace their <see cref="LinearSlot.Layer"/>.</summary>
    IReadOnlyList<LinearSlot> Linears { get; }

    /// <summary>
    /// The linear layers grouped by shared input, in execution order (GPTQ's true-sequential order): LLaMA
    /// [q, k, v], [o], [gate, up], [down]; OPT [q, k, v], [out], [fc1], [fc2]. The first slot of a group runs first.
    /// </summary>
    IReadOnlyList<IReadOnlyList<LinearSlot>> SequentialGroups { get; }

    /// <summary>
    /// Reads the block's small objects (its norms' weights, its linear groups' tables, its KV cache layer), see
    /// <see cref="Tensors.CacheWarming"/>: the model calls this, with its layers' <see cref="ILinear.WarmMetadata"/>,
    /// before the block runs a decode step. Nothing by default.
    /// </summary>
    void WarmSmallObjects(ForwardContext context) { }

    /// <summary>hidden [ctx.Rows, hidden_size] is the residual stream, updated in place.</summary>
    void Forward(Span<float> hidden, ForwardContext context);
}
