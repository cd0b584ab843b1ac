using Xunit;

namespace Qllm.Tests.Training;

/// <summary>
/// Central finite differences in fp32 against analytic gradients. The scalar checked is L = Σ r ⊙ y with fixed
/// random r (so ∂L/∂y = r), summed in float64; with h = 1e-2 the fp32 rounding of the forward contributes about
/// 1e-4 to a difference quotient, so analytic and numeric values must agree within 2e-3 + 2e-2·|g|.
/// </summary>
public static class GradientCheck
{
    public static float[] Random(int length, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    /// <summary>Checks analytic[i] against (L(x + h e_i) − L(x − h e_i)) / 2h for every i (or every stride-th).</summary>
    public static void Check(string name, float[] values, ReadOnlySpan<float> analytic, Func<double> loss, int stride = 1, float h = 1e-2f)
    {
        Assert.Equal(values.Length, analytic.Length);
        for (int i = 0; i < values.Length; i += stride)
        {
            float saved = values[i];
            values[i] = saved + h;
            float up = values[i];
            double plus = loss();
            values[i] = saved - h;
            float down = values[i];
            double minus = loss();
            values[i] = saved;
            double numeric = (plus - minus) / (up - down);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-3 + 2e-2 * Math.Abs(numeric),
                $"{name}[{i}]: analytic {analytic[i]:G6}, finite difference {numeric:G6}");
        }
    }
}
