using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Tensors;

namespace Qllm.Training;

/// <summary>
/// A linear layer being trained under fake quantization: the forward uses W_q = Q_w(W) and x_q = Q_x(x), with the
/// grids recomputed from the current latent fp32 weights each step (DeepSpeed's quantize_weight_in_forward); the
/// backward passes gradients straight through both quantizers (STE): ∂L/∂W = ∂L/∂W_q, ∂L/∂x = ∂L/∂x_q.
/// </summary>
public sealed class TrainableLinear
{
    private readonly SlotQuantizers _quantizers;
    private float[] _quantizedWeight = [];
    private PackedMatrix? _packed;
    private float[] _input = [];
    private int _rows;

    public string Name { get; }
    public int OutFeatures { get; }
    public int InFeatures { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public TrainableLinear(string name, float[] weight, float[]? bias, int outFeatures, int inFeatures, SlotQuantizers quantizers)
    {
        Name = name;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        Weight = new Parameter(name + ".weight", (float[])weight.Clone());
        Bias = bias is null ? null : new Parameter(name + ".bias", (float[])bias.Clone());
        _quantizers = quantizers;
    }

    public IEnumerable<Parameter> Parameters => Bias is null ? [Weight] : [Weight, Bias];

    private float[] QuantizedWeight()
    {
        var weight = (float[])Weight.Value.Clone();
        _quantizers.Weight?.Apply(weight, OutFeatures, InFeatures);
        return weight;
    }

    /// <summary>The layer to put in the model once training is done: the final latent weights re-quantized, with the same input quantizer.</summary>
    public ILinear ToLayer() => _quantizers.Layer(Weight.Value, OutFeatures, InFeatures, Bias?.Value, " (distilled)");

    /// <summary>Re-derives W_q from the latent weights; call after every optimizer step, before the next forward.</summary>
    public void WeightsChanged()
    {
        _quantizedWeight = QuantizedWeight();
        _packed = PackedMatrix.Pack(_quantizedWeight, OutFeatures, InFeatures);
    }

    /// <summary>y [rows, out] = Q_x(x)·Q_w(W)ᵀ + b; keeps Q_x(x) for the backward.</summary>
    public void Forward(ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        if (_packed is null) WeightsChanged();
        int length = rows * InFeatures;
        if (_input.Length < length) _input = new float[length];
        _rows = rows;
        var kept = _input.AsSpan(0, length);
        input[..length].CopyTo(kept);
        _quantizers.Input?.Apply(kept, rows, InFeatures);
        Gemm.Multiply(kept, rows, _packed!, output, Bias is null ? default : Bias.Value);
    }

    /// <summary>Accumulates ∂L/∂W and ∂L/∂b and writes ∂L/∂x, all through the straight-through estimator.</summary>
    public void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        LinearBackward.AccumulateWeightGradient(outputGradient, _input, _rows, OutFeatures, InFeatures, Weight.Gradient);
        if (Bias != null) LinearBackward.AccumulateBiasGradient(outputGradient, _rows, OutFeatures, Bias.Gradient);
        LinearBackward.InputGradient(outputGradient, _rows, _quantizedWeight, OutFeatures, InFeatures, inputGradient);
    }
}
