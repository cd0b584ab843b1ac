using Qllm.Models;

namespace Qllm.Calibration;

/// <summary>
/// A method that works on whole blocks rather than on layer groups (ZeroQuant's layer-by-layer distillation): the
/// <see cref="CalibrationPipeline"/> hands it each block's inputs for all calibration windows before the block's
/// groups are calibrated, and the block's outputs after its final forward (the next block's inputs).
/// </summary>
public interface IBlockCalibrator
{
    /// <summary>The block's inputs, [samples·seqLen, hidden]; valid only during the call.</summary>
    void BeforeBlock(IDecoderBlock block, ReadOnlySpan<float> inputs, int samples, int seqLen);

    /// <summary>The block's outputs, [samples·seqLen, hidden], after it ran with its calibrated layers; the calibrator may now change the block.</summary>
    void AfterBlock(IDecoderBlock block, ReadOnlySpan<float> outputs, int samples, int seqLen);
}
