using Qllm.Tensors;

namespace Qllm.Training;

/// <summary>
/// Gradients of y = x·Wᵀ + b (W [out, in], the nn.Linear layout) for rows of x: dx = dy·W, dW += dyᵀ·x, db += Σ_rows dy.
/// The products run on the model's own GEMM, which computes A·Bᵀ for a packed B; the operands are transposed into
/// that form first (a copy, cheap next to the product).
/// </summary>
public static class LinearBackward
{
    /// <summary>dx [rows, in] = dy [rows, out] · W [out, in].</summary>
    public static void InputGradient(ReadOnlySpan<float> outputGradient, int rows, ReadOnlySpan<float> weight, int outFeatures, int inFeatures, Span<float> inputGradient) =>
        Gemm.MultiplyTransposed(outputGradient, Transpose.Of(weight, outFeatures, inFeatures), inputGradient, rows, inFeatures, outFeatures);

    /// <summary>dW [out, in] += dyᵀ [out, rows] · x [rows, in].</summary>
    public static void AccumulateWeightGradient(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, int rows, int outFeatures, int inFeatures, Span<float> weightGradient)
    {
        var product = new float[outFeatures * inFeatures];
        Gemm.MultiplyTransposed(Transpose.Of(outputGradient, rows, outFeatures), Transpose.Of(input, rows, inFeatures), product, outFeatures, inFeatures, rows);
        System.Numerics.Tensors.TensorPrimitives.Add(weightGradient[..product.Length], product, weightGradient);
    }

    /// <summary>db [out] += Σ_rows dy.</summary>
    public static void AccumulateBiasGradient(ReadOnlySpan<float> outputGradient, int rows, int outFeatures, Span<float> biasGradient)
    {
        for (int r = 0; r < rows; r++)
            System.Numerics.Tensors.TensorPrimitives.Add(biasGradient[..outFeatures], outputGradient.Slice(r * outFeatures, outFeatures), biasGradient);
    }
}
