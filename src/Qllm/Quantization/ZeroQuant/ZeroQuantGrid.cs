using System.Numerics.Tensors;

namespace Qllm.Quantization.ZeroQuant;

/// <summary>
/// ZeroQuant's symmetric grid (Yao et al. 2022 §4.1; DeepSpeed compression's SymQuantizer): scale = 2·max|x| / 2^b,
/// codes clamp(round(x / scale), −2^(b−1), 2^(b−1) − 1). This differs from GPTQ's symmetric grid
/// (<see cref="QuantGrid.Find"/>, scale = 2·max|x| / (2^b − 1)): the step is a little finer and +max|x| itself clips one
/// step lower. As a <see cref="QuantGrid"/> it is scale = max|x| / 2^(b−1), zero = 2^(b−1), maxq = 2^b − 1.
/// </summary>
public static class ZeroQuantGrid
{
    public static QuantGrid Symmetric(ReadOnlySpan<float> values, int bits)
    {
        float absMax = values.IsEmpty ? 0f : MathF.Abs(TensorPrimitives.MaxMagnitude(values));
        int half = 1 << (bits - 1);
        // An all-zero group has no range; any positive scale keeps it at zero (DeepSpeed would divide 0 by 0).
        float scale = absMax > 0f ? absMax / half : 1f;
        return new QuantGrid(scale, half, 2 * half - 1);
    }

    /// <summary>Every value of the span put on its own symmetric grid, in place.</summary>
    public static void FakeQuantize(Span<float> values, int bits)
    {
        var grid = Symmetric(values, bits);
        for (int i = 0; i < values.Length; i++) values[i] = grid.Quantize(values[i]);
    }
}
