using System.Numerics.Tensors;

namespace Qllm.Training;

/// <summary>
/// Gradient of RMSNorm y = x · r ⊙ w, r = (mean(x²) + ε)^(−½), per row of width d (the forward is
/// <see cref="Tensors.Elementwise.RmsNorm"/>): with g = dy ⊙ w, dx = r·g − x·r³·(g·x)/d and dw += Σ_rows dy ⊙ x·r.
/// </summary>
public static class RmsNormBackward
{
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, float eps, ReadOnlySpan<float> outputGradient, int rows,
        Span<float> inputGradient, Span<float> weightGradient)
    {
        int d = weight.Length;
        var scaled = new float[d];
        for (int row = 0; row < rows; row++)
        {
            var x = input.Slice(row * d, d);
            var dy = outputGradient.Slice(row * d, d);
            var dx = inputGradient.Slice(row * d, d);
            float r = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(x) / d + eps);
            TensorPrimitives.Multiply(dy, weight, scaled);                 // g = dy ⊙ w
            float projection = TensorPrimitives.Dot(scaled, x) * r * r * r / d;
            TensorPrimitives.Multiply(scaled, r, dx);
            TensorPrimitives.MultiplyAdd(x, -projection, dx, dx);          // dx = r·g − x·r³(g·x)/d
            TensorPrimitives.Multiply(x, r, scaled);                       // x̂ = x·r
            TensorPrimitives.MultiplyAdd(dy, scaled, weightGradient, weightGradient);
        }
    }
}
