using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Models.Llama;
using Qllm.Tests.Support;
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

    [Theory]
    [InlineData(64)]  // 32 pairs: four 8-wide steps
    [InlineData(80)]  // 40 pairs: five
    [InlineData(84)]  // 42 pairs: five, then two one at a time
    [InlineData(6)]   // 3 pairs: one at a time only
    public void RotatesEveryHeadAsTheScalarFormulaToTheBit(int headDim)
    {
        const int heads = 3, position = 37;
        var rope = new RotaryEmbedding(headDim, 64, 10000, null);
        int half = headDim / 2;
        // The rotation of (1, 0) is (cos, sin) exactly (1·c − 0·s = c), which gives the tables the formula uses.
        var basis = new float[headDim];
        basis.AsSpan(0, half).Fill(1f);
        rope.Apply(basis, 1, position);
        float[] row = DeterministicWeights.Generate($"rope{headDim}", heads * headDim, 3f), expected = (float[])row.Clone();
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
            {
                float a = row[h * headDim + i], b = row[h * headDim + i + half], c = basis[i], n = basis[i + half];
                expected[h * headDim + i] = a * c - b * n;
                expected[h * headDim + i + half] = b * c + a * n;
            }
        rope.Apply(row, heads, position);
        Assert.Equal(expected, row);
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
