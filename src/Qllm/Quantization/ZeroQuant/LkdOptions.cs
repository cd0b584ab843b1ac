using Qllm.Common;

namespace Qllm.Quantization.ZeroQuant;

/// <summary>
/// Layer-by-layer knowledge distillation settings: Adam at <see cref="LearningRate"/> for <see cref="Steps"/> steps of
/// <see cref="BatchWindows"/> calibration windows each. The defaults are the seed's (qllm-infer's LKD table: lr 5e-6,
/// batch 4, 100 steps and up; DeepSpeed's example: "typically in hundreds" of steps).
/// </summary>
public sealed record LkdOptions(LkdLayers Layers, double LearningRate = 5e-6, int Steps = 100, int BatchWindows = 4)
{
    public void Validate()
    {
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new QllmException($"--lkd-lr must be a positive number, got {LearningRate}.");
        if (Steps < 0) throw new QllmException($"--lkd-steps must be 0 or more, got {Steps}.");
        if (BatchWindows < 1) throw new QllmException($"--lkd-batch must be at least 1 window, got {BatchWindows}.");
    }
}
