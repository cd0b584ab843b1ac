using Qllm.Calibration;
using Qllm.Models;
using Qllm.Training;

namespace Qllm.Quantization.ZeroQuant;

/// <summary>One distilled block: its index and losses.</summary>
public sealed record LkdBlockResult(int Block, DistillationResult Distillation);

/// <summary>
/// ZeroQuant's layer-by-layer knowledge distillation (Yao et al. 2022 §4.2, eq. 5) as a block calibrator. The
/// teacher is the full-precision model: the pipeline runs with no layer-group method, so every block's input is the
/// output of the full-precision blocks before it, L_{k−1}(…L_1(X)), and its output (seen in <see cref="AfterBlock"/>)
/// is the teacher's L_k(…). A chosen block is then quantized (the student L̂_k) and trained on that same input to
/// minimise MSE(L_k(…), L̂_k(…)) (eq. 5; the seed's LKD also reads both from the teacher's hidden states); every
/// block is left quantized with its final weights re-quantized. The next block's input stays the teacher's.
/// </summary>
public sealed class LayerwiseDistillation(ZeroQuantScheme scheme, LkdOptions options, int blocks, Action<int, int, double>? onStep = null) : IBlockCalibrator
{
    private readonly IReadOnlySet<int> _chosen = options.Layers.Resolve(blocks);
    private float[]? _inputs;

    public List<LkdBlockResult> Results { get; } = [];

    public void BeforeBlock(IDecoderBlock block, ReadOnlySpan<float> inputs, int samples, int seqLen) =>
        _inputs = _chosen.Contains(block.Index) ? inputs.ToArray() : null;

    public void AfterBlock(IDecoderBlock block, ReadOnlySpan<float> outputs, int samples, int seqLen)
    {
        if (_inputs is null)
        {
            ZeroQuantMethod.QuantizeBlock(block, scheme);
            return;
        }
        var trainer = BlockTrainer.For(block, scheme.QuantizersFor);
        int width = outputs.Length / (samples * seqLen);
        var result = BlockDistillation.Run(trainer, _inputs, outputs, samples, seqLen, width, options.LearningRate, options.Steps, options.BatchWindows,
            (step, loss) => onStep?.Invoke(block.Index, step, loss));
        trainer.Install();
        Results.Add(new LkdBlockResult(block.Index, result));
        _inputs = null;
    }
}
