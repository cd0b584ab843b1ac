using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Models.Llama;
using Xunit;

namespace Qllm.Tests.Models;

public class RotaryEmbeddingTests
{
    [Fact]
    public void RotatesEachHalfPairByPositionTimesFrequency()
    {
        // head_dim 4: pairs (0,2) with θ^0 = 1 and (1,3) with θ^(−1/2) = 0.01 for θ = 10⁴.
        var rope = new RotaryEmbedding(4, 8, 10000, null);
        float[] row = [1f, 1f, 0f, 0f];
        rope.Apply(row, 1, 3);
        Assert.Equal(Math.Cos(3), row[0], 5);
        Assert.Equal(Math.Sin(3), row[2], 5);
        Assert.Equal(Math.Cos(0.03), row[1], 5);
        Assert.Equal(Math.Sin(0.03), row[3], 5);
    }

    [Fact]
    public void Llama3ScalingKeepsHighFrequenciesAndDividesLowOnes()
    {
        var scaling = new RopeScaling("llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 32);
        double[] plain = RotaryEmbedding.InverseFrequencies(16, 500000, null);
        double[] scaled = RotaryEmbedding.InverseFrequencies(16, 500000, scaling);
        // Wavelength 2π/f: below 32/4 = 8 kept, above 32 divided by 8, between blended.
        for (int i = 0; i < plain.Length; i++)
        {
            double wavelength = 2 * Math.PI / plain[i];
            if (wavelength < 8) Assert.Equal(plain[i], scaled[i]);
            else if (wavelength > 32) Assert.Equal(plain[i] / 8, scaled[i], 12);
            else Assert.InRange(scaled[i], plain[i] / 8, plain[i]);
        }
        Assert.Contains(plain, f => 2 * Math.PI / f < 8);
        Assert.Contains(plain, f => 2 * Math.PI / f > 32);
    }

    [Fact]
    public void InterleavedToRotateHalfMovesPairsToHalves()
    {
        // One head of dim 4, one column: rows [a0, b0, a1, b1] (pairs (a_j, b_j)) become [a0, a1, b0, b1].
        float[] interleaved = [10f, 20f, 11f, 21f];
        Assert.Equal([10f, 11f, 20f, 21f], RopeLayout.InterleavedToRotateHalf(interleaved, 1, 4, 1));
    }

    [Fact]
    public void UnknownScalingIsRefusedByName()
    {
        var e = Assert.Throws<Qllm.Common.QllmException>(() => RotaryEmbedding.InverseFrequencies(8, 10000, new RopeScaling("yarn", 4)));
        Assert.Contains("yarn", e.Message);
    }
}
