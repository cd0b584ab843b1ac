using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Calibration;

/// <summary>
/// A method that quantizes (or transforms) linear layers from what their inputs look like on calibration data:
/// GPTQ (Hessians), SmoothQuant (channel maxima), AWQ (activation magnitudes). The <see cref="CalibrationPipeline"/>
/// feeds it each block's layer groups in order; the method never runs a forward pass of its own.
/// </summary>
public interface ICalibrationMethod
{
    string Name { get; }

    /// <summary>Starts one group of a block: linear layers that read the same input (q/k/v, gate/up) or a single one.</summary>
    ILayerGroupCalibrator Begin(IDecoderBlock block, IReadOnlyList<LinearSlot> group);
}

/// <summary>One group's calibration: sees every calibration input of the group, then changes the layers.</summary>
public interface ILayerGroupCalibrator
{
    /// <summary>Calibration inputs of the group, [rows, in features]; called once or in chunks covering all samples.</summary>
    void Observe(ReadOnlySpan<float> input, int rows);

    /// <summary>Replaces the group's <see cref="LinearSlot.Layer"/>s (quantized, smoothed, …) once all inputs were observed.</summary>
    void Apply();
}
