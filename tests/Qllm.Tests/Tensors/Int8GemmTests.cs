using Qllm.Tensors;
using Qllm.Tensors.Kernels;
using Xunit;

namespace Qllm.Tests.Tensors;

/// <summary>
/// The int8 GEMM on every kernel path against the definition Σ_k (a − z_x)(c − z_w), summed in 64-bit integers.
/// With unit scales and no bias the output is that integer converted to float, exact while it stays below 2²⁴,
/// so these shapes compare the kernels' int32 sums exactly.
/// </summary>
[Collection(KernelPathCollection.Name)]
public class Int8GemmTests
{
    private sealed record Operands(byte[] A, int[] RowZeros, float[] RowScales, byte[] C, float[] ChannelZeros, float[] ChannelScales, int M, int N, int K);

    private static Operands Random(int m, int n, int k, int seed, bool symmetric, byte[]? values = null, bool unitScales = true)
    {
        var random = new Random(seed);
        byte Code() => values != null ? values[random.Next(values.Length)] : (byte)random.Next(256);
        return new Operands(
            Enumerable.Range(0, m * k).Select(_ => Code()).ToArray(),
            Enumerable.Range(0, m).Select(_ => symmetric ? 128 : random.Next(256)).ToArray(),
            Enumerable.Range(0, m).Select(_ => unitScales ? 1f : 0.01f + random.NextSingle()).ToArray(),
            Enumerable.Range(0, n * k).Select(_ => Code()).ToArray(),
            Enumerable.Range(0, n).Select(_ => symmetric ? 128f : random.Next(256)).ToArray(),
            Enumerable.Range(0, n).Select(_ => unitScales ? 1f : 0.01f + random.NextSingle()).ToArray(),
            m, n, k);
    }

    private static long Exact(Operands o, int i, int j)
    {
        long sum = 0;
        for (int t = 0; t < o.K; t++) sum += (long)(o.A[i * o.K + t] - o.RowZeros[i]) * (long)(o.C[j * o.K + t] - o.ChannelZeros[j]);
        return sum;
    }

    private static float[] Run(Operands o, KernelPath path, float[]? bias = null)
    {
        var x = new Int8Activations();
        x.Reset(o.M, o.K);
        for (int i = 0; i < o.M; i++) x.SetRow(i, o.A.AsSpan(i * o.K, o.K), o.RowScales[i], o.RowZeros[i]);
        var w = new Int8Panels(o.C, o.ChannelScales, o.ChannelZeros, o.N, o.K);
        var y = new float[o.M * o.N];
        var previous = KernelSelector.Force(path);
        try { Int8Gemm.Multiply(x, w, y, bias); }
        finally { KernelSelector.Force(previous); }
        return y;
    }

    public static TheoryData<KernelPath, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<KernelPath, int, int, int, bool>();
        (int, int, int)[] shapes =
        [
            (1, 1, 1), (1, 33, 5), (3, 5, 7), (2, 64, 4),  // decode rows, k below and at one group of 4
            (8, 32, 16), (9, 33, 17), (7, 9, 3),         // one tile exactly, one past it each way, k % 4 = 1 and 3
            (130, 67, 301),                             // two row blocks, partial tiles and panels, k % 4 = 1
            (64, 256, 770),                             // large enough to run in parallel, k % 4 = 2
        ];
        foreach (var path in new[] { KernelPath.Avx512, KernelPath.Avx2, KernelPath.Portable })
            foreach (var (m, n, k) in shapes)
                foreach (bool symmetric in new[] { true, false })
                    data.Add(path, m, n, k, symmetric);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void IntegerSumsAreExact(KernelPath path, int m, int n, int k, bool symmetric)
    {
        var o = Random(m, n, k, seed: m * 7919 + n * 31 + k, symmetric);
        var y = Run(o, path);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(Exact(o, i, j), (long)y[i * n + j]);
    }

    /// <summary>
    /// Codes at the ends of the range: 255 × (0 − 128) pairs are what saturate vpmaddubsw's int16 sums, and
    /// (255 − 0)·(0 − 255) with zero points 0 and 255 is the largest magnitude per term.
    /// </summary>
    [Theory]
    [InlineData(KernelPath.Avx512)]
    [InlineData(KernelPath.Avx2)]
    [InlineData(KernelPath.Portable)]
    public void ExtremeCodesDoNotSaturate(KernelPath path)
    {
        var mixed = Random(9, 40, 131, seed: 5, symmetric: true, values: [0, 1, 127, 128, 254, 255]);
        var y = Run(mixed, path);
        for (int i = 0; i < mixed.M; i++)
            for (int j = 0; j < mixed.N; j++) Assert.Equal(Exact(mixed, i, j), (long)y[i * mixed.N + j]);

        const int k = 257; // 255² · 257 < 2²⁴: still exact in float
        var largest = new Operands(Enumerable.Repeat((byte)255, 2 * k).ToArray(), [0, 0], [1f, 1f],
            Enumerable.Repeat((byte)0, 3 * k).ToArray(), [255f, 255f, 128f], [1f, 1f, 1f], 2, 3, k);
        var extreme = Run(largest, path);
        Assert.Equal(-255L * 255 * k, (long)extreme[0]);
        Assert.Equal(-255L * 128 * k, (long)extreme[2]);
    }

    [Theory]
    [InlineData(KernelPath.Avx512, 2)]
    [InlineData(KernelPath.Avx2, 13)]
    [InlineData(KernelPath.Portable, 37)]
    public void ScalesAndBiasAreApplied(KernelPath path, int m)
    {
        var o = Random(m, 45, 70, seed: m, symmetric: false, unitScales: false);
        var bias = Enumerable.Range(0, o.N).Select(j => 0.5f * j - 3f).ToArray();
        var y = Run(o, path, bias);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < o.N; j++)
            {
                double expected = (double)o.RowScales[i] * o.ChannelScales[j] * Exact(o, i, j) + bias[j];
                Assert.Equal(expected, y[i * o.N + j], Math.Abs(expected) * 1e-6 + 1e-6);
            }
    }
}
