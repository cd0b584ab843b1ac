using Qllm.Quantization;
using Qllm.Tests.Support;

namespace Qllm.Tests.Quantization.Packed;

/// <summary>Quantized test weights: RTN codes of deterministic weights, optionally with an act-order g_idx.</summary>
internal static class LowBitWeights
{
    /// <summary>
    /// With actOrder, columns are grouped as GPTQ's act-order does: a random permutation (seeded) is cut into
    /// consecutive groups, so column c belongs to group ⌊rank(c) / groupSize⌋ and g_idx is not monotone. The codes
    /// and grids are RTN's on the contiguous layout, reused as they are: the packed layer must not care.
    /// </summary>
    public static QuantizedWeight Make(int rows, int columns, QuantSpec spec, bool actOrder)
    {
        float[] w = DeterministicWeights.Generate($"w{spec.Bits}", rows * columns, 1f);
        var weight = WeightQuantizer.Quantize(w, rows, columns, spec);
        if (!actOrder) return weight;
        var rank = Enumerable.Range(0, columns).OrderBy(_ => 0).ToArray();
        new Random(spec.Bits * 1000 + spec.GroupSize).Shuffle(rank);
        return weight with { GroupIndex = rank.Select(r => r / weight.GroupSize).ToArray() };
    }

    /// <summary>
    /// Σ_c |x_c| · |scale| · (code_c + |zero|) for output row o: the size of the terms a low-bit kernel sums (x·code and
    /// zero·Σx apart), which scales its float rounding. x is one input row of the weight's width.
    /// </summary>
    public static double TermMagnitude(QuantizedWeight weight, ReadOnlySpan<float> x, int o)
    {
        double magnitude = 0;
        for (int c = 0; c < weight.Columns; c++)
        {
            int g = o * weight.Groups + weight.GroupOf(c);
            magnitude += Math.Abs(x[c]) * Math.Abs(weight.Scales[g]) * (weight.Codes[o * weight.Columns + c] + Math.Abs(weight.Zeros[g]));
        }
        return magnitude;
    }
}
