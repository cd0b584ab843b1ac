using Qllm.Tensors;
using Xunit;

namespace Qllm.Tests.Tensors;

public class ElementwiseTests
{
    [Fact]
    public void RmsNormDividesByTheRootMeanSquare()
    {
        // x = [3, 4]: mean(x²) = 12.5, so y = x / sqrt(12.5 + eps) · w.
        float[] y = new float[2];
        Elementwise.RmsNorm([3f, 4f], [1f, 2f], y, 1, 0f);
        Assert.Equal(3 / Math.Sqrt(12.5), y[0], 6);
        Assert.Equal(2 * 4 / Math.Sqrt(12.5), y[1], 6);
    }

    [Fact]
    public void LayerNormCentresAndScales()
    {
        // x = [1, 2, 3]: mean 2, biased variance 2/3.
        float[] y = new float[3];
        Elementwise.LayerNorm([1f, 2f, 3f], [1f, 1f, 2f], [0f, 1f, 0f], y, 1, 0f);
        double s = Math.Sqrt(2.0 / 3);
        Assert.Equal(-1 / s, y[0], 5);
        Assert.Equal(1.0, y[1], 5);
        Assert.Equal(2 / s, y[2], 5);
    }

    [Fact]
    public void SoftmaxIsStableForLargeInputs()
    {
        float[] x = [1000f, 1000f + MathF.Log(3f)];
        Elementwise.Softmax(x);
        Assert.Equal(0.25, x[0], 5);
        Assert.Equal(0.75, x[1], 5);
    }

    [Fact]
    public void SiluGateIsSwiGlu()
    {
        float[] gate = [1f, -2f], up = [3f, 0.5f];
        Elementwise.SiluGate(gate, up);
        Assert.Equal(1 / (1 + Math.Exp(-1)) * 3, gate[0], 5);
        Assert.Equal(-2 / (1 + Math.Exp(2)) * 0.5, gate[1], 5);
    }

    [Fact]
    public void NegativeLogLikelihoodIsLogSumExpMinusTarget()
    {
        float[] logits = [0f, 0f, 0f, 0f];
        Assert.Equal(Math.Log(4), Elementwise.NegativeLogLikelihood(logits, 2, new float[4]), 6);
    }

    [Fact]
    public void NegativeLogLikelihoodIgnoresScratchBeyondTheLogits()
    {
        // Pooled scratch arrays are often longer than the vocabulary; stale values there must not count.
        float[] scratch = Enumerable.Repeat(1000f, 8).ToArray();
        Assert.Equal(Math.Log(4), Elementwise.NegativeLogLikelihood([0f, 0f, 0f, 0f], 1, scratch), 6);
    }
}
