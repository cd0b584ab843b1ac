namespace Qllm.Analysis;

/// <summary>
/// One linear layer's statistics over the analysis windows (qllm-infer's <c>--analyze_stats</c>): its full-precision
/// weight and its input distributions, and the quantization error of weights, inputs and outputs.
/// </summary>
/// <param name="Kind">The layer as quantized (<see cref="Models.Layers.ILinear.Kind"/>).</param>
/// <param name="Weight">The full-precision weight's values.</param>
/// <param name="Activation">The layer's input as it arrives (before any activation quantization), over every window.</param>
/// <param name="WeightError">Full-precision weight against the effective (dequantized) quantized weight.</param>
/// <param name="ActivationError">The input against its quantized version; exact (no error) when activations stay full precision.</param>
/// <param name="OutputError">The full-precision layer's output against the quantized layer's, both on the same input.</param>
public sealed record LayerStatistics(
    string Name, string Kind, int OutFeatures, int InFeatures,
    RunningMoments Weight, RunningMoments Activation,
    QuantizationError WeightError, QuantizationError ActivationError, QuantizationError OutputError);
