using System.Numerics.Tensors;

namespace Qllm.Training;

/// <summary>
/// Gradient of LayerNorm y = x̂ ⊙ w + b, x̂ = (x − μ)·r, r = (σ² + ε)^(−½) (biased variance; the forward is
/// <see cref="Tensors.Elementwise.LayerNorm"/>): with g = dy ⊙ w, dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂)),
/// dw += Σ_rows dy ⊙ x̂ and db += Σ_rows dy.
/// </summary>
public static class LayerNormBackward
{
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, float eps, ReadOnlySpan<float> outputGradient, int rows,
        Span<float> inputGradient, Span<float> weightGradient, Span<float> biasGradient)
    {
        int d = weight.Length;
        float[] normalized = new float[d], scaled = new float[d];
        for (int row = 0; row < rows; row++)
        {
            var x = input.Slice(row * d, d);
            var dy = outputGradient.Slice(row * d, d);
            var dx = inputGradient.Slice(row * d, d);
            float mean = TensorPrimitives.Sum(x) / d;
            TensorPrimitives.Subtract(x, mean, normalized);
            float r = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(normalized) / d + eps);
            TensorPrimitives.Multiply(normalized, r, normalized);          // x̂
            TensorPrimitives.Multiply(dy, weight, scaled);                 // g
            float meanG = TensorPrimitives.Sum(scaled) / d, meanGx = TensorPrimitives.Dot(scaled, normalized) / d;
            TensorPrimitives.Subtract(scaled, meanG, dx);
            TensorPrimitives.MultiplyAdd(normalized, -meanGx, dx, dx);
            TensorPrimitives.Multiply(dx, r, dx);
            TensorPrimitives.MultiplyAdd(dy, normalized, weightGradient, weightGradient);
            TensorPrimitives.Add(biasGradient, dy, biasGradient);
        }
    }
}
