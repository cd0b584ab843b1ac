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
}
