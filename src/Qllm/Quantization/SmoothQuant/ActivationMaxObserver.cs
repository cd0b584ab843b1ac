using System.Numerics.Tensors;
using Qllm.Models.Layers;

namespace Qllm.Quantization.SmoothQuant;

/// <summary>
/// Keeps max|X_j| over every token seen at a linear layer's input, per input channel j: the activation statistic of
/// SmoothQuant's calibration (the reference's get_act_scales, a forward hook on each nn.Linear). An observer only:
/// it never changes the input.
/// </summary>
public sealed class ActivationMaxObserver(int channels) : ILinearHook
{
    // Signed values of the largest magnitude seen so far (TensorPrimitives.MaxMagnitude keeps the sign); |·| on read.
    private readonly float[] _extreme = new float[channels];
    private readonly Lock _gate = new();

    public bool ChangesInput => false;

    public void BeforeForward(LinearSlot slot, Span<float> input, int rows)
    {
        lock (_gate)
            for (int r = 0; r < rows; r++)
                TensorPrimitives.MaxMagnitude(_extreme, input.Slice(r * channels, channels), _extreme);
    }

    /// <summary>max|X_j| per channel so far.</summary>
    public float[] Maxima()
    {
        lock (_gate)
        {
            var maxima = new float[channels];
            TensorPrimitives.Abs(_extreme, maxima);
            return maxima;
        }
    }
}
