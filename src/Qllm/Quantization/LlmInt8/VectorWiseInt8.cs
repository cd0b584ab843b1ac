namespace Qllm.Quantization.LlmInt8;

/// <summary>
/// Absmax int8 quantization of one vector, as bitsandbytes' int8_vectorwise_quant: code = round(x · 127 / absmax)
/// (round half to even, torch.round), value = code · absmax / 127. A vector of zeros stays zero (bitsandbytes
/// would divide by zero there).
/// </summary>
public static class VectorWiseInt8
{
    public const float Levels = 127f;

    public static float AbsMax(ReadOnlySpan<float> values)
    {
        float max = 0;
        foreach (float v in values) max = MathF.Max(max, MathF.Abs(v));
        return max;
    }

    /// <summary>Replaces each value by its int8 code times absmax/127 (fake quantization, in place).</summary>
    public static void FakeQuantize(Span<float> values, float absMax)
    {
        if (absMax == 0) return;
        float toCode = Levels / absMax, toValue = absMax / Levels;
        for (int i = 0; i < values.Length; i++) values[i] = MathF.Round(values[i] * toCode) * toValue;
    }
}
