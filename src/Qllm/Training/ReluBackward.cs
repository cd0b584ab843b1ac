namespace Qllm.Training;

/// <summary>Gradient of ReLU (OPT's fc1 activation): dx = dy where x &gt; 0, else 0 (the subgradient 0 at x = 0, as torch).</summary>
public static class ReluBackward
{
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        for (int i = 0; i < outputGradient.Length; i++) inputGradient[i] = input[i] > 0f ? outputGradient[i] : 0f;
    }
}
