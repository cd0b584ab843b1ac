using Qllm.Common;
using Qllm.Quantization;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization;

/// <summary>Hand-computed cases of GPTQ's Quantizer conventions (quant.py: find_params, quantize).</summary>
public class QuantGridTests
{
    private static float[] FakeQuant(float[] row, QuantSpec spec)
    {
        var copy = (float[])row.Clone();
        WeightQuantizer.FakeQuantize(copy, 1, row.Length, spec);
        return copy;
    }

    [Fact]
    public void AsymmetricFourBit()
    {
        // xmin = −3, xmax = 12: scale = 15/15 = 1 (exact in float32), zero = round(3) = 3.
        // x = −3, 0.5, 2.5, 4.5, 12 → round(x) = −3, 0, 2, 4, 12 (ties to even) → codes 0, 3, 5, 7, 15.
        float[] row = [-3f, 0.5f, 2.5f, 4.5f, 12f];
        Assert.Equal([-3f, 0f, 2f, 4f, 12f], FakeQuant(row, new QuantSpec(4, Symmetric: false)));
        var codes = WeightQuantizer.Quantize(row, 1, row.Length, new QuantSpec(4, false));
        Assert.Equal([0, 3, 5, 7, 15], codes.Codes.Select(c => (int)c));
        Assert.Equal(1f, codes.Scales[0]);
        Assert.Equal(3f, codes.Zeros[0]);
    }

    [Fact]
    public void AsymmetricGridFollowsFloat32Arithmetic()
    {
        // xmin = −1, xmax = 3: scale = 4/15 = 0.26666668f. 2/scale is 7.4999996 in float32 (not 7.5), so it rounds to 7.
        float scale = 4f / 15f;
        Assert.Equal([scale * -4, scale * 2, scale * 7, scale * 11], FakeQuant([-1f, 0.5f, 2f, 3f], new QuantSpec(4, false)));
    }

    [Fact]
    public void SymmetricFourBitHasZeroEightAndRoundsHalfToEven()
    {
        // max|x| = 7.5: scale = 15/15 = 1, zero = (15 + 1)/2 = 8.
        // −7.5 → −8 (tie to even) → code 0 → −8;  2.5 → 2 (tie to even, not 3);  −0.5 → −0 → 0;  7.5 → 8 → code 16 clamps to 15 → 7.
        Assert.Equal([-8f, 2f, 0f, 7f], FakeQuant([-7.5f, 2.5f, -0.5f, 7.5f], new QuantSpec(4, Symmetric: true)));
    }

    [Fact]
    public void SymmetricThreeBitHasZeroFour()
    {
        // max|x| = 3.5: scale = 7/7 = 1, zero = (7 + 1)/2 = 4; −3.5 → −4 (tie to even) → code 0;  1.5 → 2 → code 6.
        var codes = WeightQuantizer.Quantize([-3.5f, 1.5f], 1, 2, new QuantSpec(3, true));
        Assert.Equal(4f, codes.Zeros[0]);
        Assert.Equal(1f, codes.Scales[0]);
        Assert.Equal([0, 6], codes.Codes.Select(c => (int)c));
        Assert.Equal([-4f, 2f], codes.Dequantize());
    }

    [Fact]
    public void AnAllZeroRowStaysZero()
    {
        // xmin = xmax = 0 becomes [−1, 1]: scale = 2/15; zero = round(1/scale) = round(7.4999995f) = 7 in float32
        // (the NumPy oracle agrees); every 0 maps to code 7, which dequantizes to 0.
        var codes = WeightQuantizer.Quantize(new float[5], 1, 5, new QuantSpec(4, false));
        Assert.Equal(2f / 15f, codes.Scales[0]);
        Assert.Equal(7f, codes.Zeros[0]);
        Assert.All(codes.Dequantize(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ARangeOfPositiveValuesStillIncludesZero()
    {
        // xmin is clamped to 0: [1, 2, 3] at 2 bits gives scale 3/3 = 1, zero 0, and the values are exact.
        Assert.Equal([1f, 2f, 3f], FakeQuant([1f, 2f, 3f], new QuantSpec(2, false)));
    }

    [Fact]
    public void APartialLastGroupGetsItsOwnGrid()
    {
        // G = 4 over 10 columns: groups of 4, 4 and 2. The last group [10, 20] has scale 20/15 and zero 0.
        float[] row = [0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f, 10f, 20f];
        var codes = WeightQuantizer.Quantize(row, 1, 10, new QuantSpec(4, false, GroupSize: 4));
        Assert.Equal(3, codes.Groups);
        Assert.Equal(20f / 15f, codes.Scales[2]);
        Assert.Equal(0f, codes.Zeros[2]);
        Assert.Equal((0.8f + 0.6f) / 15f, codes.Scales[1], 6);    // group [0.5, −0.6, 0.7, 0.8]
        float[] grouped = FakeQuant(row, new QuantSpec(4, false, 4));
        float[] perChannel = FakeQuant(row, new QuantSpec(4, false));
        double Error(float[] q) => q.Take(8).Zip(row).Sum(p => Math.Abs(p.First - p.Second));
        Assert.True(Error(grouped) < Error(perChannel) / 5, "small values keep their precision only with groups");
    }

    [Fact]
    public void CodesLieOnTheGridAndDequantizeToTheFakeQuantValues()
    {
        int rows = 8, cols = 50;
        float[] w = DeterministicWeights.Generate("grid.w", rows * cols, 1f);
        foreach (var spec in new[] { new QuantSpec(3, false, 16), new QuantSpec(4, true), new QuantSpec(2, false, 7, MseClip: true) })
        {
            var q = WeightQuantizer.Quantize(w, rows, cols, spec);
            Assert.All(q.Codes, c => Assert.InRange(c, 0, spec.MaxQ));
            float[] fake = (float[])w.Clone();
            WeightQuantizer.FakeQuantize(fake, rows, cols, spec);
            Assert.Equal(fake, q.Dequantize());
        }
    }

    [Fact]
    public void QuantizingTwiceChangesNothing()
    {
        float[] w = DeterministicWeights.Generate("idem.w", 4 * 32, 1f);
        var spec = new QuantSpec(4, false, 8);
        WeightQuantizer.FakeQuantize(w, 4, 32, spec);
        float[] again = (float[])w.Clone();
        WeightQuantizer.FakeQuantize(again, 4, 32, spec);
        for (int i = 0; i < w.Length; i++) Assert.Equal(w[i], again[i], 1e-6f);
    }

    [Fact]
    public void MseClippingNeverIncreasesTheErrorAndClipsAnOutlier()
    {
        float[] row = DeterministicWeights.Generate("mse.row", 64, 0.1f);
        row[10] = 3f; // an outlier stretches the min/max range
        double Error(QuantGrid g) => row.Sum(v => Math.Pow(Math.Abs(g.Quantize(v) - v), 2.4));
        var plain = QuantGrid.Find(row, 7, false);
        var clipped = QuantGrid.FindMse(row, 7, false);
        Assert.True(Error(clipped) <= Error(plain));
        Assert.True(clipped.Scale < plain.Scale, "the search shrinks the range");
    }

    [Fact]
    public void TheErrorShrinksAsBitsGrow()
    {
        float[] w = DeterministicWeights.Generate("bits.w", 16 * 64, 1f);
        double Error(int bits)
        {
            float[] q = (float[])w.Clone();
            WeightQuantizer.FakeQuantize(q, 16, 64, new QuantSpec(bits, false));
            return q.Zip(w).Sum(p => (p.First - p.Second) * (p.First - p.Second));
        }
        Assert.True(Error(8) < Error(4) && Error(4) < Error(3) && Error(3) < Error(2));
    }

    [Fact]
    public void PerTokenActivationsGetOneGridPerRowAndPerTensorOneOverall()
    {
        // Row 0 spans [0, 1], row 1 spans [0, 100]. Per token, row 0 keeps its resolution (scale 1/255);
        // per tensor, it shares the scale 100/255 and 0.5 collapses onto that coarse grid.
        float[] x = [0.5f, 1f, 50f, 100f];
        float[] perToken = (float[])x.Clone(), perTensor = (float[])x.Clone();
        ActivationQuantizer.FakeQuantize(perToken, 2, 2, new ActivationQuantSpec(8, false, ActivationGranularity.PerToken));
        ActivationQuantizer.FakeQuantize(perTensor, 2, 2, new ActivationQuantSpec(8, false, ActivationGranularity.PerTensor));
        Assert.Equal(0.5f, perToken[0], 0.5f / 255);
        Assert.Equal(MathF.Round(0.5f / (100f / 255)) * (100f / 255), perTensor[0], 1e-5f);
        Assert.NotEqual(perToken[0], perTensor[0]);
    }

    [Theory]
    [InlineData(1, -1, "--wbits")]
    [InlineData(9, -1, "--wbits")]
    [InlineData(4, 0, "--wgroup")]
    [InlineData(4, -2, "--wgroup")]
    public void ImpossibleSpecsNameTheOption(int bits, int group, string option)
    {
        var e = Assert.Throws<QllmException>(() => new QuantSpec(bits, false, group).Validate());
        Assert.Contains(option, e.Message);
    }
}
