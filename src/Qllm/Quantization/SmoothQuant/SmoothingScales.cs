using Qllm.Models.Layers;

namespace Qllm.Quantization.SmoothQuant;

/// <summary>
/// The per-channel smoothing factors of SmoothQuant (Xiao et al. 2022, Eq. 4):
///   s_j = max|X_j|^α / max|W_j|^(1−α),
/// where max|W_j| is taken over input column j of every linear layer that reads X (q/k/v together; gate/up
/// together). As the reference's smooth_ln_fcs: the weight maxima and the scales are clamped below at 1e-5 (the
/// activation maxima are not), in float32.
/// </summary>
public static class SmoothingScales
{
    public const float MinValue = 1e-5f;

    public static float[] Compute(ReadOnlySpan<float> activationMax, IReadOnlyList<DenseLinear> layers, double alpha)
    {
        if (alpha is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must lie in [0, 1].");
        int channels = activationMax.Length;
        var weightMax = new float[channels];
        foreach (var layer in layers)
        {
            if (layer.InFeatures != channels)
                throw new ArgumentException($"a layer reads {layer.InFeatures} channels, the activation maxima have {channels}.");
            for (int r = 0; r < layer.OutFeatures; r++)
            {
                var row = layer.Weight.AsSpan(r * channels, channels);
                for (int j = 0; j < channels; j++) weightMax[j] = MathF.Max(weightMax[j], MathF.Abs(row[j]));
            }
        }
        float a = (float)alpha;
        var scales = new float[channels];
        for (int j = 0; j < channels; j++)
        {
            float w = MathF.Max(weightMax[j], MinValue);
            scales[j] = MathF.Max(MathF.Pow(activationMax[j], a) / MathF.Pow(w, 1 - a), MinValue);
        }
        return scales;
    }
}
