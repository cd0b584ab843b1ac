using Qllm.Models.Layers;
using Qllm.Quantization;

namespace Qllm.Formats;

/// <summary>Choices a caller can make about how a checkpoint becomes layers.</summary>
public sealed record ModelLoadOptions
{
    public static readonly ModelLoadOptions Default = new();

    /// <summary>
    /// Builds the layer of each GPTQ-packed linear from its codes and its bias (null when it has none).
    /// The default dequantizes into a <see cref="DenseLinear"/>, which computes what the checkpoint holds at fp32
    /// speed; a packed low-bit layer plugs in here to keep the weights small.
    /// </summary>
    public Func<QuantizedWeight, float[]?, ILinear> GptqLinearFactory { get; init; } = DequantizedLinear;

    public static ILinear DequantizedLinear(QuantizedWeight weight, float[]? bias) =>
        new DenseLinear(weight.Dequantize(), weight.Rows, weight.Columns, bias,
            $"gptq w{weight.Spec.Bits} {(weight.Spec.GroupSize > 0 ? $"g{weight.Spec.GroupSize}" : "per-channel")} (dequantized)");
}
