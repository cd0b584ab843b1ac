using System.Buffers;
using Qllm.Models.Layers;
using Qllm.Quantization;

namespace Qllm.Analysis;

/// <summary>
/// Watches one linear slot without changing what flows through it: accumulates its input's moments, the error
/// of its activation quantization, and the error of its output against the full-precision layer run on the very
/// same input (so the error is this layer's own, not what earlier layers accumulated). State is a few running
/// sums; each call borrows two pooled buffers, so memory does not grow with the number of windows.
/// </summary>
public sealed class LayerStatisticsObserver(ILinear fullPrecision) : ILinearHook
{
    private readonly RunningMoments _activation = new();
    private readonly QuantizationError _activationError = new(), _outputError = new();

    public bool ChangesInput => false;

    public void AfterForward(LinearSlot slot, ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        var x = input[..(rows * slot.Layer.InFeatures)];
        _activation.Add(x);
        ObserveActivationQuantization(x, EffectiveLinear.ActivationQuantization(slot.Layer), rows, slot.Layer.InFeatures);

        int outputs = rows * slot.Layer.OutFeatures;
        float[] reference = ArrayPool<float>.Shared.Rent(outputs);
        try
        {
            fullPrecision.Forward(x, reference, rows);
            _outputError.Add(reference.AsSpan(0, outputs), output[..outputs]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(reference);
        }
    }

    private void ObserveActivationQuantization(ReadOnlySpan<float> x, IFakeQuantizer? quantizer, int rows, int columns)
    {
        if (quantizer is null)
        {
            _activationError.Add(x, x);
            return;
        }
        float[] buffer = ArrayPool<float>.Shared.Rent(x.Length);
        try
        {
            var quantized = buffer.AsSpan(0, x.Length);
            x.CopyTo(quantized);
            quantizer.Apply(quantized, rows, columns);
            _activationError.Add(x, quantized);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>The layer's statistics; the weight's are computed here, once (they do not depend on the inputs).</summary>
    public LayerStatistics Result(LinearSlot slot)
    {
        float[] reference = EffectiveLinear.Weight(fullPrecision);
        var weight = new RunningMoments();
        weight.Add(reference);
        var weightError = new QuantizationError();
        weightError.Add(reference, EffectiveLinear.Weight(slot.Layer));
        return new LayerStatistics(slot.Name, slot.Layer.Kind, slot.Layer.OutFeatures, slot.Layer.InFeatures,
            weight, _activation, weightError, _activationError, _outputError);
    }
}
