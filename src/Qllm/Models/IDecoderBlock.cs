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

    /// <summary>hidden [ctx.Rows, hidden_size] is the residual stream, updated in place.</summary>
    void Forward(Span<float> hidden, ForwardContext context);
}
