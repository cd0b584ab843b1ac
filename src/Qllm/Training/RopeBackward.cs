using Qllm.Models.Layers;

namespace Qllm.Training;

/// <summary>
/// Gradient of rotary embedding: RoPE turns each pair (x_i, x_{i+d/2}) by R(θ), so the gradient turns back by
/// R(θ)ᵀ = R(−θ). With J = diag(1, −1) on each pair, J·R(θ)·J = R(−θ), so the model's own
/// <see cref="RotaryEmbedding.Apply"/> computes it between two sign flips of the second half of every head.
/// </summary>
public static class RopeBackward
{
    /// <summary>In place on rows [batch·seqLen, heads·headDim]; positions restart at 0 for every sequence.</summary>
    public static void Backward(RotaryEmbedding rope, Span<float> gradient, int rows, int seqLen, int heads)
    {
        int width = heads * rope.HeadDim, half = rope.HeadDim / 2;
        for (int r = 0; r < rows; r++)
        {
            var row = gradient.Slice(r * width, width);
            FlipSecondHalves(row, heads, rope.HeadDim, half);
            rope.Apply(row, heads, r % seqLen);
            FlipSecondHalves(row, heads, rope.HeadDim, half);
        }
    }

    private static void FlipSecondHalves(Span<float> row, int heads, int headDim, int half)
    {
        for (int h = 0; h < heads; h++)
            foreach (ref float value in row.Slice(h * headDim + half, half)) value = -value;
    }
}
