using Qllm.Common;
using Qllm.Quantization.Gptq;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization.Gptq;

public class InverseHessianFactorTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(300)] // three 128-row blocks, partial 16-column strips and 4-row tiles, two k-slices in the inverse
    public void UpperFactorSatisfiesUTransposeUTimesDampedHEqualsIdentity(int n)
    {
        var b = DeterministicWeights.Generate("gptq.test.spd", n * n, 1f);
        var h = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += (double)b[i * n + k] * b[j * n + k];
                h[i * n + j] = s / n;
            }
        var u = InverseHessianFactor.Compute(h, n, 0.01, out double damp, out int retries);
        Assert.Equal(0, retries);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) Assert.Equal(0f, u[i * n + j]);
        // UᵀU = (H + λI)⁻¹  ⇔  U·(H + λI)·Uᵀ = I (U is invertible), checked on every 7th row in O(n²) each.
        for (int i = 0; i < n; i += 7)
        {
            var v = new double[n];
            for (int k = i; k < n; k++)
                for (int j = 0; j < n; j++) v[j] += u[i * n + k] * (h[k * n + j] + (k == j ? damp : 0));
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = j; k < n; k++) s += v[k] * u[j * n + k];
                Assert.True(Math.Abs(s - (i == j ? 1 : 0)) < 1e-4, $"({i},{j}): {s}");
            }
        }
    }

    [Fact]
    public void AnIndefiniteMatrixIsRetriedWithTenTimesTheDamping()
    {
        // Eigenvalues 2.0015 and −0.0015: damping 1e−4 and 1e−3 fail, 1e−2 succeeds.
        double[] h = [1, 1.0015, 1.0015, 1];
        var u = InverseHessianFactor.Compute(h, 2, 1e-4, out double damp, out int retries);
        Assert.Equal(2, retries);
        Assert.Equal(1e-2, damp, 12);
        Assert.All(u, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void AHopelessMatrixThrowsAfterTheRetries()
    {
        double[] h = [1, 3, 3, 1]; // eigenvalue −2: no damping up to 1e−6·10⁴ helps
        var error = Assert.Throws<QllmException>(() => InverseHessianFactor.Compute(h, 2, 1e-6, out _, out _));
        Assert.Contains("not positive definite", error.Message);
        Assert.Contains("--percdamp", error.Message);
    }
}
