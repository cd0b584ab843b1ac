using Qllm.Training;
using Xunit;

namespace Qllm.Tests.Training;

/// <summary>Adam against its closed form (Kingma &amp; Ba 2015, Algorithm 1) worked by hand for a few steps.</summary>
public class AdamTests
{
    private const double Lr = 0.01, B1 = 0.9, B2 = 0.999, Eps = 1e-8;

    [Fact]
    public void ConstantGradientMovesByLearningRateEachStep()
    {
        // m̂ₜ = g and v̂ₜ = g² for a constant g, so every step moves by lr·g/(|g| + ε).
        var p = new Parameter("p", [1f, -2f]);
        var adam = new Adam([p], Lr, B1, B2, Eps);
        for (int t = 0; t < 3; t++)
        {
            p.Gradient[0] = 0.5f;
            p.Gradient[1] = -3f;
            adam.Step();
        }
        Assert.Equal(1 - 3 * Lr * 0.5 / (0.5 + Eps), p.Value[0], 6);
        Assert.Equal(-2 + 3 * Lr * 3 / (3 + Eps), p.Value[1], 6);
    }

    [Fact]
    public void TwoDifferentGradientsFollowTheBiasCorrectedMoments()
    {
        double g1 = 0.2, g2 = -1.0;
        var p = new Parameter("p", [0.5f]);
        var adam = new Adam([p], Lr, B1, B2, Eps);
        p.Gradient[0] = (float)g1;
        adam.Step();
        p.Gradient[0] = (float)g2;
        adam.Step();
        double m1 = (1 - B1) * g1, v1 = (1 - B2) * g1 * g1;
        double step1 = Lr * (m1 / (1 - B1)) / (Math.Sqrt(v1 / (1 - B2)) + Eps);
        double m2 = B1 * m1 + (1 - B1) * g2, v2 = B2 * v1 + (1 - B2) * g2 * g2;
        double step2 = Lr * (m2 / (1 - B1 * B1)) / (Math.Sqrt(v2 / (1 - B2 * B2)) + Eps);
        Assert.Equal(0.5 - step1 - step2, p.Value[0], 6);
        Assert.Equal(2, adam.Steps);
    }
}
