namespace Qllm.Analysis;

/// <summary>
/// How far one linear layer of the quantized model drifts from the full-precision model when each runs on its
/// own activations (the error accumulated up to and including this layer).
/// </summary>
/// <param name="Input">The layer's input in the full-precision model against the quantized model's (before its activation quantization): qllm-infer's get_layerwise_distance measure.</param>
/// <param name="Output">The full-precision model's layer output against the quantized model's.</param>
public sealed record LayerDistance(string Name, int OutFeatures, int InFeatures, QuantizationError Input, QuantizationError Output);
