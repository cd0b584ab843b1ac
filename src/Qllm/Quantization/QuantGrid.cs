namespace Qllm.Quantization;

/// <summary>
/// One uniform grid: q(x) = scale · (clamp(round(x / scale) + zero, 0, maxq) − zero), with round half to
/// even (torch.round). Found as GPTQ's Quantizer.find_params does, in float32.
/// </summary>
public readonly record struct QuantGrid(float Scale, float Zero, int MaxQ)
{
    public int Code(float x) => (int)Math.Clamp(MathF.Round(x / Scale) + Zero, 0, MaxQ);

    public float Dequantize(int code) => Scale * (code - Zero);

    public float Quantize(float x) => Dequantize(Code(x));

    /// <summary>
    /// GPTQ find_params: the range always includes 0 (xmin ≤ 0 ≤ xmax); symmetric grids use ±max|x| with
    /// zero = (maxq + 1)/2 (when no value is negative the low end stays 0); an all-zero range becomes [−1, 1].
    /// </summary>
    public static QuantGrid Find(ReadOnlySpan<float> x, int maxQ, bool symmetric)
    {
        float min = 0f, max = 0f;
        foreach (float v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return FromRange(min, max, maxQ, symmetric);
    }

    public static QuantGrid FromRange(float min, float max, int maxQ, bool symmetric)
    {
        if (symmetric)
        {
            max = MathF.Max(MathF.Abs(min), max);
            if (min < 0) min = -max;
        }
        if (min == 0f && max == 0f) { min = -1f; max = 1f; }
        float scale = (max - min) / maxQ;
        float zero = symmetric ? (maxQ + 1) / 2 : MathF.Round(-min / scale);
        return new QuantGrid(scale, zero, maxQ);
    }

    /// <summary>
    /// GPTQ's mse=True search: shrink the range by p = 1 − i/grid for i &lt; maxshrink·grid, and keep the grid
    /// with the smallest Σ|q(x) − x|^norm (strictly smaller wins, so ties keep the larger range).
    /// Symmetric grids keep the unshrunk zero point, as the reference does.
    /// </summary>
    public static QuantGrid FindMse(ReadOnlySpan<float> x, int maxQ, bool symmetric, float norm = 2.4f, int grid = 100, float maxShrink = 0.8f)
    {
        var full = Find(x, maxQ, symmetric);
        float min = 0f, max = 0f;
        foreach (float v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        if (symmetric)
        {
            max = MathF.Max(MathF.Abs(min), max);
            if (min < 0) min = -max;
        }
        if (min == 0f && max == 0f) { min = -1f; max = 1f; }

        var best = full;
        double bestError = double.PositiveInfinity;
        int steps = (int)(maxShrink * grid);
        for (int i = 0; i < steps; i++)
        {
            float p = 1f - i / (float)grid;
            float min1 = p * min, max1 = p * max;
            float scale1 = (max1 - min1) / maxQ;
            float zero1 = symmetric ? full.Zero : MathF.Round(-min1 / scale1);
            var candidate = new QuantGrid(scale1, zero1, maxQ);
            double error = 0;
            foreach (float v in x) error += Math.Pow(Math.Abs(candidate.Quantize(v) - v), norm);
            if (error < bestError)
            {
                bestError = error;
                best = candidate;
            }
        }
        return best;
    }
}
