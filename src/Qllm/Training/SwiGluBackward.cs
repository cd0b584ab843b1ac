namespace Qllm.Training;

/// <summary>
/// Gradient of SwiGLU h = silu(a) ⊙ u (Shazeer 2020; the forward is <see cref="Tensors.Elementwise.SiluGate"/>):
/// da = dh ⊙ u ⊙ σ(a)·(1 + a·(1 − σ(a))), du = dh ⊙ silu(a).
/// </summary>
public static class SwiGluBackward
{
    public static void Backward(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, ReadOnlySpan<float> outputGradient, Span<float> gateGradient, Span<float> upGradient)
    {
        for (int i = 0; i < outputGradient.Length; i++)
        {
            float a = gate[i], sigmoid = 1f / (1f + MathF.Exp(-a)), g = outputGradient[i];
            gateGradient[i] = g * up[i] * sigmoid * (1f + a * (1f - sigmoid));
            upGradient[i] = g * a * sigmoid;
        }
    }
}
