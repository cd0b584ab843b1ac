using Qllm.Tensors;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Tensors;

public class GemmTests
{
    /// <summary>Oracle: the textbook triple loop in double precision.</summary>
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

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 64, 64)]       // decode GEMV
    [InlineData(3, 5, 7)]         // all tails, no full tile
    [InlineData(4, 4, 16)]        // exactly one tile, one vector
    [InlineData(7, 9, 172)]       // stories260K hidden size: vector body plus a 12-wide tail
    [InlineData(130, 67, 65)]     // crosses the 64-row and 64-column blocks
    [InlineData(64, 256, 768)]    // large enough to run in parallel
    public void MatchesTheNaiveProduct(int m, int n, int k)
    {
        float[] x = DeterministicWeights.Generate("x", m * k, 1f);
        float[] w = DeterministicWeights.Generate("w", n * k, 1f);
        float[] bias = DeterministicWeights.Generate("b", n, 1f);
        var y = new float[m * n];
        Gemm.MultiplyTransposed(x, w, y, m, n, k, bias);
        double[] expected = Naive(x, w, bias, m, n, k);
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5 * Math.Sqrt(k) * (1 + Math.Abs(expected[i])), $"element {i}: {y[i]} vs {expected[i]}");
    }

    [Fact]
    public void WithoutBiasTheOutputIsThePureProduct()
    {
        float[] x = [1, 2, 3, 4];
        float[] w = [1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1];
        var y = new float[3];
        Gemm.MultiplyTransposed(x, w, y, 1, 3, 4);
        Assert.Equal([1f, 2f, 10f], y);
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
