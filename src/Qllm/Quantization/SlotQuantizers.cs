using Qllm.Models.Layers;

namespace Qllm.Quantization;

/// <summary>The fake quantizers of one linear layer: of its weights and of its input (either may be null).</summary>
public readonly record struct SlotQuantizers(IFakeQuantizer? Weight, IFakeQuantizer? Input)
{
    /// <summary>
    /// The layer for the model: a dense layer holding <paramref name="weight"/> on the weight grid (the array is not
    /// changed), behind the input quantizer when there is one.
    /// </summary>
    public ILinear Layer(float[] weight, int outFeatures, int inFeatures, float[]? bias, string note = "")
    {
        var values = (float[])weight.Clone();
        Weight?.Apply(values, outFeatures, inFeatures);
        ILinear layer = new DenseLinear(values, outFeatures, inFeatures, bias is null ? null : (float[])bias.Clone(),
            (Weight is null ? "fp32" : $"fake-quant {Weight.Describe()}") + note);
        return Input is null ? layer : new ActivationQuantizedLinear(layer, Input);
    }
}
