using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Quantization.Packed;
using Qllm.Tensors.Kernels;
using Qllm.Tests.Support;
using Qllm.Tests.Tensors;
using Xunit;

namespace Qllm.Tests.Quantization.Packed;

/// <summary>
/// <see cref="PackedLowBitLinear"/> against the dense layer built from <see cref="QuantizedWeight.Dequantize"/>,
/// on every kernel path, for decode (rows &lt; 4) and prefill shapes, with ragged panels, groups and words.
/// </summary>
[Collection(KernelPathCollection.Name)]
public class PackedLowBitLinearTests
{
    private const int Out = 70, In = 300; // a partial panel; 300 is no multiple of 8, 16, 32 or 128, nor of 3-bit's 10 codes a word

    public static TheoryData<KernelPath, int, int> Cases()
    {
        var data = new TheoryData<KernelPath, int, int>();
        foreach (var path in new[] { KernelPath.Avx512, KernelPath.Avx2, KernelPath.Portable })
            foreach (int bits in new[] { 2, 3, 4, 5, 6, 7, 8 })
                foreach (int group in new[] { -1, 32, 128 })
                    data.Add(path, bits, group);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheDequantizedDenseLayer(KernelPath path, int bits, int group)
    {
        foreach (bool symmetric in new[] { false, true })
            foreach (bool actOrder in new[] { false, true })
            {
                var weight = LowBitWeights.Make(Out, In, new QuantSpec(bits, symmetric, group), actOrder);
                float[] bias = DeterministicWeights.Generate("bias", Out, 1f);
                foreach (float[]? b in new[] { null, bias })
                {
                    var packed = new PackedLowBitLinear(weight, b);
                    var dense = new DenseLinear(weight.Dequantize(), Out, In, b);
                    foreach (int rows in new[] { 1, 2, 3, 4, 17, 64 })
                        CompareOn(path, packed, dense, weight, b, rows, $"w{bits} g{group} sym={symmetric} act={actOrder} bias={b != null} rows={rows}");
                }
            }
    }

    /// <summary>
    /// Bound: 1e-5 · M with M = Σ_k |x_k| · |scale| · (|code_k| + |zero|) + |bias| per output (in double). The decode
    /// kernel sums x·code and zero·Σx separately before taking their difference, so its rounding scales with M,
    /// not with Σ|x·w| (they differ by a small factor); a float sum of K = 300 terms errs by about √K · 2^-24 ≈ 1e-6
    /// of M, and at most K · 2^-24 ≈ 1.8e-5 in the worst case, so 1e-5 has room yet catches any wrong code or grid.
    /// </summary>
    private static void CompareOn(KernelPath path, PackedLowBitLinear packed, DenseLinear dense, QuantizedWeight weight, float[]? bias, int rows, string label)
    {
        int n = weight.Rows, k = weight.Columns;
        float[] x = DeterministicWeights.Generate($"x{rows}", rows * k, 1f);
        var actual = new float[rows * n];
        var expected = new float[rows * n];
        var previous = KernelSelector.Force(path);
        try
        {
            packed.Forward(x, actual, rows);
            dense.Forward(x, expected, rows);
        }
        finally { KernelSelector.Force(previous); }
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < n; o++)
            {
                double magnitude = Math.Abs(bias?[o] ?? 0) + LowBitWeights.TermMagnitude(weight, x.AsSpan(r * k, k), o);
                int i = r * n + o;
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * magnitude, $"{path} {label} [{r},{o}]: {actual[i]} vs {expected[i]} (M = {magnitude})");
            }
    }

    [Theory]
    [InlineData(2, 32, false)]
    [InlineData(3, 128, true)]
    [InlineData(4, -1, false)]
    [InlineData(5, 32, true)]
    [InlineData(8, 128, true)]
    public void RoundTripsTheQuantizedWeightExactly(int bits, int group, bool actOrder)
    {
        var weight = LowBitWeights.Make(Out, In, new QuantSpec(bits, false, group), actOrder);
        var back = new PackedLowBitLinear(weight, null).ToQuantizedWeight();
        Assert.Equal(weight.Spec, back.Spec);
        Assert.Equal((weight.Rows, weight.Columns), (back.Rows, back.Columns));
        Assert.Equal(weight.Codes, back.Codes);
        Assert.Equal(weight.Scales, back.Scales);
        Assert.Equal(weight.Zeros, back.Zeros);
        Assert.Equal(weight.GroupIndex, back.GroupIndex);
    }

    [Theory]
    [InlineData(2, 2.0)]
    [InlineData(3, 3.2 * 130 / 128)] // 10 codes a 32-bit word (3.2 bits), and each group of 128 padded to 130 columns
    [InlineData(4, 4.0)]
    [InlineData(8, 8.0)]
    public void StoresTheExpectedNumberOfBytes(int bits, double codeBits)
    {
        // fp32 takes 4 bytes a weight; codes take codeBits / 8, and each group of 128 adds an fp32 scale and zero
        // (8 / 128 bytes a weight). Per layer, not per row, come the group tables and, when groups are padded, prefill's
        // column map (4 bytes a padded column): under 1% at 2048 rows, hence the slack.
        const int rows = 2048, columns = 1024;
        var weight = new QuantizedWeight(rows, columns, new QuantSpec(bits, false, 128), new byte[rows * columns], new float[rows * 8], new float[rows * 8]);
        var layer = new PackedLowBitLinear(weight, null);
        double expected = 4 / (codeBits / 8 + 8.0 / 128);
        Assert.InRange(4.0 * rows * columns / layer.StorageBytes, expected * 0.99, expected);
        Assert.Equal((long)rows * columns, layer.ParameterCount);
        Assert.Equal($"packed w{bits} g128 asym", layer.Kind);
    }

    [Fact]
    public void ThreeBitIsSmallerThanFourBit()
    {
        var three = new PackedLowBitLinear(LowBitWeights.Make(512, 1280, new QuantSpec(3, false, 128), false), null);
        var four = new PackedLowBitLinear(LowBitWeights.Make(512, 1280, new QuantSpec(4, false, 128), false), null);
        Assert.True(three.StorageBytes < 0.85 * four.StorageBytes, $"{three.StorageBytes} vs {four.StorageBytes}");
    }

    [Theory]
    [InlineData(KernelPath.Avx512)]
    [InlineData(KernelPath.Portable)]
    public void HandlesUnevenAndEmptyGroupsInParallel(KernelPath path)
    {
        // A g_idx that is no permutation of equal groups: random sizes, group 1 left empty. 200 × 700 at rows = 1 is
        // large enough for the parallel GEMV, rows = 40 for several row and panel chunks of the blocked GEMM.
        const int rows = 200, columns = 700;
        var spec = new QuantSpec(4, false, 64);
        var weight = WeightQuantizer.Quantize(DeterministicWeights.Generate("uneven", rows * columns, 1f), rows, columns, spec);
        var random = new Random(7);
        weight = weight with { GroupIndex = Enumerable.Range(0, columns).Select(_ => random.Next(weight.Groups - 1) is var g && g >= 1 ? g + 1 : g).ToArray() };
        Assert.DoesNotContain(1, weight.GroupIndex!);
        var packed = new PackedLowBitLinear(weight, null);
        var dense = new DenseLinear(weight.Dequantize(), rows, columns);
        foreach (int m in new[] { 1, 40 }) CompareOn(path, packed, dense, weight, null, m, $"uneven groups rows={m}");
        Assert.Equal(weight.GroupIndex, packed.ToQuantizedWeight().GroupIndex);
        Assert.Equal("packed w4 g64 asym act-order", packed.Kind);
    }

    [Fact]
    public void RejectsCodesThatDoNotFitTheirBits()
    {
        var weight = LowBitWeights.Make(8, 16, new QuantSpec(2, false), false);
        weight.Codes[5] = 4;
        Assert.Throws<ArgumentException>(() => new PackedLowBitLinear(weight, null));
        Assert.Throws<ArgumentException>(() => new PackedLowBitLinear(LowBitWeights.Make(8, 16, new QuantSpec(4, false), false), new float[7]));
    }

    [Fact]
    public void ForwardAllocatesNothingOnceWarm()
    {
        // Decode runs ~100 of these per token; buffers are pooled and the parallel loop's delegate is cached per thread.
        // (In this collection no other test's loop holds the worker pool, which would send us to Parallel.For.)
        var layer = new PackedLowBitLinear(LowBitWeights.Make(256, 512, new QuantSpec(3, false, 128), actOrder: true), new float[256]);
        foreach (int rows in new[] { 1, 16 })
        {
            float[] x = DeterministicWeights.Generate("alloc", rows * 512, 1f), y = new float[rows * 256];
            for (int i = 0; i < 50; i++) layer.Forward(x, y, rows);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) layer.Forward(x, y, rows);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Theory]
    [InlineData(KernelPath.Avx512)]
    [InlineData(KernelPath.Avx2)]
    [InlineData(KernelPath.Portable)]
    public void BatchedDecodeEqualsEachLayerOnItsOwn(KernelPath path)
    {
        // q/k/v-like layers of different widths, bits, groups, biases and column orders, large enough for the
        // parallel loop: one batched GEMV over their panels must give exactly what each layer's own GEMV gives.
        // The two 3-bit layers share one input layout, so each thread prepares their input once for both.
        PackedLowBitLinear[] layers =
        [
            new(LowBitWeights.Make(300, In, new QuantSpec(4, false, 128), actOrder: true), DeterministicWeights.Generate("b0", 300, 1f)),
            new(LowBitWeights.Make(70, In, new QuantSpec(3, true, -1), actOrder: false), null),
            new(LowBitWeights.Make(45, In, new QuantSpec(3, false, -1), actOrder: false), null),
            new(LowBitWeights.Make(129, In, new QuantSpec(8, false, 32), actOrder: true), null),
        ];
        var previous = KernelSelector.Force(path);
        try
        {
            foreach (int rows in new[] { 1, 2, 3 })
            {
                float[] x = DeterministicWeights.Generate($"batch{rows}", rows * In, 1f);
                float[][] batched = layers.Select(l => new float[rows * l.OutFeatures]).ToArray();
                PackedLowBitLinear.ForwardBatch(layers, x, batched, rows);
                for (int i = 0; i < layers.Length; i++)
                {
                    var alone = new float[rows * layers[i].OutFeatures];
                    layers[i].Forward(x, alone, rows);
                    Assert.Equal(alone, batched[i]);
                }
            }
            Assert.Throws<ArgumentException>(() => PackedLowBitLinear.ForwardBatch(layers, new float[4 * In], layers.Select(l => new float[4 * l.OutFeatures]).ToArray(), 4));
        }
        finally { KernelSelector.Force(previous); }
    }
}
