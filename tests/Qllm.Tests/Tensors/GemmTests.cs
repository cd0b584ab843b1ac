using Qllm.Tensors;
using Qllm.Tensors.Kernels;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Tensors;

/// <summary>Every kernel path (forced with <see cref="KernelSelector.Force"/>) against the textbook product in double precision.</summary>
[Collection(KernelPathCollection.Name)]
public class GemmTests
{
    private static double[] Naive(float[] x, float[] w, float[]? bias, int m, int n, int k)
    {
        var y = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = bias?[j] ?? 0;
                for (int t = 0; t < k; t++) s += (double)x[i * k + t] * w[j * k + t];
                y[i * n + j] = s;
            }
        return y;
    }

    public static TheoryData<KernelPath, int, int, int> Shapes()
    {
        var data = new TheoryData<KernelPath, int, int, int>();
        (int, int, int)[] shapes =
        [
            (1, 1, 1), (1, 64, 64), (1, 100, 37),   // decode GEMV, with a partial panel
            (3, 5, 7),                              // below the GEMV limit, all tails
            (8, 32, 16), (9, 33, 17),               // one tile exactly, and one past it each way
            (7, 9, 172), (130, 67, 300),            // partial tiles, two k-blocks
            (64, 256, 768),                         // large enough to run in parallel
        ];
        foreach (var path in new[] { KernelPath.Avx512, KernelPath.Avx2, KernelPath.Portable })
            foreach (var (m, n, k) in shapes) data.Add(path, m, n, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesTheNaiveProductOnEveryPath(KernelPath path, int m, int n, int k)
    {
        float[] x = DeterministicWeights.Generate("x", m * k, 1f);
        float[] w = DeterministicWeights.Generate("w", n * k, 1f);
        float[] bias = DeterministicWeights.Generate("b", n, 1f);
        var y = new float[m * n];
        var previous = KernelSelector.Force(path);
        try { Gemm.MultiplyTransposed(x, w, y, m, n, k, bias); }
        finally { KernelSelector.Force(previous); }
        double[] expected = Naive(x, w, bias, m, n, k);
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5 * Math.Sqrt(k) * (1 + Math.Abs(expected[i])), $"{path} element {i}: {y[i]} vs {expected[i]}");
    }

    [Theory]
    [InlineData(KernelPath.Avx512)]
    [InlineData(KernelPath.Avx2)]
    [InlineData(KernelPath.Portable)]
    public void Bf16WeightsStayWithinTheirRoundingBound(KernelPath path)
    {
        // bf16 keeps 8 significant bits: each weight moves by at most 2^-9 of itself (round to nearest), so
        // |y_bf16 − y_fp32| ≤ 2^-9 · Σ_k |x_k w_k| (+ fp32 rounding). Checked for decode (m = 1) and prefill (m = 20).
        foreach (int m in new[] { 1, 20 })
        {
            int n = 70, k = 300;
            float[] x = DeterministicWeights.Generate("bx", m * k, 1f), w = DeterministicWeights.Generate("bw", n * k, 1f);
            var exact = new float[m * n];
            var rounded = new float[m * n];
            var previous = KernelSelector.Force(path);
            try
            {
                Gemm.Multiply(x, m, PackedMatrix.Pack(w, n, k), exact);
                Gemm.Multiply(x, m, PackedMatrix.Pack(w, n, k, bf16: true), rounded);
            }
            finally { KernelSelector.Force(previous); }
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double magnitude = 0;
                    for (int t = 0; t < k; t++) magnitude += Math.Abs((double)x[i * k + t] * w[j * k + t]);
                    double bound = magnitude / 512 + 1e-5 * magnitude;
                    Assert.True(Math.Abs(rounded[i * n + j] - exact[i * n + j]) <= bound, $"{path} m={m} ({i},{j})");
                }
            Assert.NotEqual(exact, rounded); // the bf16 path really rounds
        }
    }

    [Fact]
    public void Bf16RoundingIsToNearestEven()
    {
        // 1 + 2^-8 lies halfway between the bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1).
        Assert.Equal(1f, PackedMatrix.FromBf16(PackedMatrix.ToBf16(1f + 1f / 256)));
        Assert.Equal(1f + 1f / 64, PackedMatrix.FromBf16(PackedMatrix.ToBf16(1f + 3f / 256))); // tie → even mantissa
        Assert.Equal(0x3F80, PackedMatrix.ToBf16(1f));
    }

    [Fact]
    public void PackingRoundTrips()
    {
        float[] w = DeterministicWeights.Generate("pack", 45 * 13, 1f);
        Assert.Equal(w, PackedMatrix.Pack(w, 45, 13).Unpack());
    }

    [Fact]
    public void SingleThreadedAndMultiThreadedAgreeExactly()
    {
        int m = 96, n = 192, k = 384;
        float[] x = DeterministicWeights.Generate("x", m * k, 1f), w = DeterministicWeights.Generate("w", n * k, 1f);
        var parallel = new float[m * n];
        var serial = new float[m * n];
        Gemm.MultiplyTransposed(x, w, parallel, m, n, k);
        int threads = Compute.Threads;
        try
        {
            Compute.Threads = 1;
            Gemm.MultiplyTransposed(x, w, serial, m, n, k);
        }
        finally { Compute.Threads = threads; }
        Assert.Equal(serial, parallel);
    }
}

/// <summary>Tests that force a kernel path or the thread count change process-wide settings: they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelPathCollection
{
    public const string Name = "kernel path";
}
