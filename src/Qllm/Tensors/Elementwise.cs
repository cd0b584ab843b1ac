using System.Numerics.Tensors;

namespace Qllm.Tensors;

/// <summary>Row-wise and element-wise operations of the forward pass, on spans, through TensorPrimitives.</summary>
public static class Elementwise
{
    /// <summary>RMSNorm (Zhang &amp; Sennrich 2019), as LLaMA: y = x / sqrt(mean(x²) + eps) ⊙ w, per row.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, int rows, float eps)
    {
        int d = weight.Length;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var yr = y.Slice(r * d, d);
            float meanSquare = TensorPrimitives.SumOfSquares(xr) / d;
            float inv = 1f / MathF.Sqrt(meanSquare + eps);
            TensorPrimitives.Multiply(xr, inv, yr);
            TensorPrimitives.Multiply(yr, weight, yr);
        }
    }

    /// <summary>LayerNorm (Ba et al. 2016) with biased variance, as torch.nn.LayerNorm: y = (x − μ)/sqrt(σ² + eps) ⊙ w + b.</summary>
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int rows, float eps)
    {
        int d = weight.Length;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var yr = y.Slice(r * d, d);
            float mean = TensorPrimitives.Sum(xr) / d;
            TensorPrimitives.Subtract(xr, mean, yr);
            float variance = TensorPrimitives.SumOfSquares(yr) / d;
            TensorPrimitives.Multiply(yr, 1f / MathF.Sqrt(variance + eps), yr);
            TensorPrimitives.FusedMultiplyAdd(yr, weight, bias, yr);
        }
    }

    /// <summary>SwiGLU gating (Shazeer 2020) in place: gate ← silu(gate) ⊙ up, where silu(x) = x·σ(x).</summary>
    public static void SiluGate(Span<float> gate, Span<float> up)
    {
        TensorPrimitives.Multiply(up, gate, up);   // up ← up ⊙ gate
        TensorPrimitives.Sigmoid(gate, gate);      // gate ← σ(gate)
        TensorPrimitives.Multiply(gate, up, gate); // gate ← σ(gate) ⊙ gate ⊙ up
    }

    public static void Relu(Span<float> x) => TensorPrimitives.Max(x, 0f, x);

    /// <summary>Numerically stable softmax in place: exp(x − max) / Σ exp(x − max).</summary>
    public static void Softmax(Span<float> x)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, x);
        TensorPrimitives.Exp(x, x);
        float sum = TensorPrimitives.Sum(x);
        TensorPrimitives.Multiply(x, 1f / sum, x);
    }

    /// <summary>−log softmax(logits)[target], computed stably; <paramref name="scratch"/> may be longer than the logits (a pooled array).</summary>
    public static double NegativeLogLikelihood(ReadOnlySpan<float> logits, int target, Span<float> scratch)
    {
        scratch = scratch[..logits.Length];
        float max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        double sum = TensorPrimitives.Sum(scratch);
        return Math.Log(sum) + max - logits[target];
    }
}
