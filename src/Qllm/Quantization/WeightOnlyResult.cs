using Qllm.Models.Layers;

namespace Qllm.Quantization;

/// <summary>One quantized linear layer's report: its shape, the method's error measure and how long it took.</summary>
/// <param name="Loss">GPTQ: Σ (w − q)² / d² / 2 over the layer, as the reference prints it; RTN: Σ (w − q)².</param>
public sealed record QuantizedLayerReport(string Name, int Rows, int Columns, double Loss, double Damp, int DampRetries, double Seconds);

/// <summary>
/// What a weight-only method produced: the codes of every layer it quantized (what a checkpoint stores) and a
/// report per layer. The layers themselves were replaced in the model as the method went.
/// </summary>
public sealed class WeightOnlyResult
{
    public Dictionary<string, QuantizedWeight> Weights { get; } = [];
    public List<QuantizedLayerReport> Layers { get; } = [];

    /// <summary>
    /// Builds a layer from codes: a packed low-bit layer (the default after quantization) or, to simulate, a
    /// dense fp32 layer holding the dequantized values (fake quantization). Both compute the same function.
    /// </summary>
    public static ILinear MakeLayer(QuantizedWeight weight, float[]? bias, bool simulate) =>
        simulate
            ? new DenseLinear(weight.Dequantize(), weight.Rows, weight.Columns, bias, $"fake-quant {weight.Spec.Describe()}")
            : new Packed.PackedLowBitLinear(weight, bias);
}
