using Qllm.Tensors;
using Qllm.Training;
using Xunit;

namespace Qllm.Tests.Training;

public class ActivationBackwardTests
{
    private const int N = 40;

    [Fact]
    public void SwiGluGradientsMatchFiniteDifferences()
    {
        float[] gate = GradientCheck.Random(N, 31, 4f), up = GradientCheck.Random(N, 32, 2f), r = GradientCheck.Random(N, 33);
        float[] dGate = new float[N], dUp = new float[N];
        SwiGluBackward.Backward(gate, up, r, dGate, dUp);
        double Loss()
        {
            float[] a = (float[])gate.Clone(), u = (float[])up.Clone();
            Elementwise.SiluGate(a, u);
            return GradientCheck.Dot(a, r);
        }
        GradientCheck.Check("dgate", gate, dGate, Loss);
        GradientCheck.Check("dup", up, dUp, Loss);
    }

    [Fact]
    public void ReluGradientMatchesFiniteDifferencesAwayFromZero()
    {
        // Values at least 0.1 from the kink, so that ±h never crosses it.
        float[] x = GradientCheck.Random(N, 41, 2f).Select(v => v >= 0 ? v + 0.1f : v - 0.1f).ToArray(), r = GradientCheck.Random(N, 42);
        var dx = new float[N];
        ReluBackward.Backward(x, r, dx);
        Assert.Contains(dx, v => v == 0f);
        double Loss()
        {
            var y = (float[])x.Clone();
            Elementwise.Relu(y);
            return GradientCheck.Dot(y, r);
        }
        GradientCheck.Check("dx", x, dx, Loss, h: 1e-2f);
    }
}
