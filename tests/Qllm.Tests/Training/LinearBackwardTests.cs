using Qllm.Quantization;
using Qllm.Quantization.ZeroQuant;
using Qllm.Training;
using Xunit;

namespace Qllm.Tests.Training;

public class LinearBackwardTests
{
    private const int Rows = 5, In = 7, Out = 6;

    [Fact]
    public void GradientsOfInputWeightAndBiasMatchFiniteDifferences()
    {
        float[] x = GradientCheck.Random(Rows * In, 1), w = GradientCheck.Random(Out * In, 2), b = GradientCheck.Random(Out, 3), r = GradientCheck.Random(Rows * Out, 4);
        var layer = new TrainableLinear("l", w, b, Out, In, default);
        var y = new float[Rows * Out];
        var dx = new float[Rows * In];
        layer.Forward(x, Rows, y);
        layer.Backward(r, dx);

        double Loss()
        {
            layer.WeightsChanged();
            layer.Forward(x, Rows, y);
            return GradientCheck.Dot(y, r);
        }
        GradientCheck.Check("dx", x, dx, Loss);
        GradientCheck.Check("dW", layer.Weight.Value, layer.Weight.Gradient, Loss);
        GradientCheck.Check("db", layer.Bias!.Value, layer.Bias.Gradient, Loss);
    }

    /// <summary>
    /// The straight-through estimator: with weights and inputs fake-quantized, every gradient equals that of the plain
    /// layer evaluated at the quantized values (∂L/∂W = ∂L/∂W_q, ∂L/∂x = ∂L/∂x_q), i.e. rounding passes gradients unchanged.
    /// </summary>
    [Fact]
    public void StraightThroughGradientsAreThoseOfTheLayerAtTheQuantizedValues()
    {
        float[] x = GradientCheck.Random(Rows * In, 5, 3f), w = GradientCheck.Random(Out * In, 6), b = GradientCheck.Random(Out, 7), r = GradientCheck.Random(Rows * Out, 8);
        var quantizers = new SlotQuantizers(new ZeroQuantWeightQuantizer(4), new ZeroQuantTokenQuantizer(4));
        var quantized = new TrainableLinear("q", w, b, Out, In, quantizers);
        float[] wq = (float[])w.Clone(), xq = (float[])x.Clone();
        quantizers.Weight!.Apply(wq, Out, In);
        quantizers.Input!.Apply(xq, Rows, In);
        Assert.NotEqual(w, wq);
        var plain = new TrainableLinear("p", wq, b, Out, In, default);

        float[] yq = new float[Rows * Out], yp = new float[Rows * Out], dxq = new float[Rows * In], dxp = new float[Rows * In];
        quantized.Forward(x, Rows, yq);
        plain.Forward(xq, Rows, yp);
        Assert.Equal(yp, yq);
        quantized.Backward(r, dxq);
        plain.Backward(r, dxp);
        Assert.Equal(dxp, dxq);
        Assert.Equal(plain.Weight.Gradient, quantized.Weight.Gradient);
        Assert.Equal(plain.Bias!.Gradient, quantized.Bias!.Gradient);
    }
}
