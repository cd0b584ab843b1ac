namespace Qllm.Quantization;

/// <summary>
/// Fake quantization of a row-major matrix [rows, columns] in place: every value replaced by its value on a grid
/// (weights: one grid per row or group of columns; activations: one per token). Training treats it as the identity
/// in the backward pass (straight-through estimator, Bengio et al. 2013), as DeepSpeed's quantizers do.
/// </summary>
public interface IFakeQuantizer
{
    void Apply(Span<float> values, int rows, int columns);

    /// <summary>Short description for reports, e.g. "w4 per-channel sym".</summary>
    string Describe();
}
