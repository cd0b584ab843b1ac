using Qllm.Tensors;
using Qllm.Training;
using Xunit;

namespace Qllm.Tests.Training;

public class NormBackwardTests
{
    private const int Rows = 3, D = 8;
    private const float Eps = 1e-5f;

    [Fact]
    public void RmsNormGradientsMatchFiniteDifferences()
    {
        float[] x = GradientCheck.Random(Rows * D, 11, 2f), w = GradientCheck.Random(D, 12), r = GradientCheck.Random(Rows * D, 13);
        float[] dx = new float[Rows * D], dw = new float[D], y = new float[Rows * D];
        RmsNormBackward.Backward(x, w, Eps, r, Rows, dx, dw);
        double Loss()
        {
            Elementwise.RmsNorm(x, w, y, Rows, Eps);
            return GradientCheck.Dot(y, r);
        }
        GradientCheck.Check("dx", x, dx, Loss);
        GradientCheck.Check("dw", w, dw, Loss);
    }

    [Fact]
    public void LayerNormGradientsMatchFiniteDifferences()
    {
        float[] x = GradientCheck.Random(Rows * D, 21, 2f), w = GradientCheck.Random(D, 22), b = GradientCheck.Random(D, 23), r = GradientCheck.Random(Rows * D, 24);
        float[] dx = new float[Rows * D], dw = new float[D], db = new float[D], y = new float[Rows * D];
        LayerNormBackward.Backward(x, w, Eps, r, Rows, dx, dw, db);
        double Loss()
        {
            Elementwise.LayerNorm(x, w, b, y, Rows, Eps);
            return GradientCheck.Dot(y, r);
        }
        GradientCheck.Check("dx", x, dx, Loss);
        GradientCheck.Check("dw", w, dw, Loss);
        GradientCheck.Check("db", b, db, Loss);
    }
}
