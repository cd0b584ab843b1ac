using System.Diagnostics;
using Qllm.Calibration;
using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// GPTQ (Frantar et al. 2022) on the shared calibration pipeline: a group's layers share one input, so they
/// share one Hessian H = 2XXᵀ (running mean over every calibration token); at <see cref="ILayerGroupCalibrator.Apply"/>
/// each layer is solved column by column (Algorithm 1) and replaced by a packed or a simulated layer.
/// </summary>
public sealed class GptqMethod(GptqOptions options, bool simulate, Action<QuantizedLayerReport>? onLayer = null) : ICalibrationMethod
{
    public WeightOnlyResult Result { get; } = new();
    public string Name => "gptq";

    public ILayerGroupCalibrator Begin(IDecoderBlock block, IReadOnlyList<LinearSlot> group) => new Group(this, group);

    private void Solve(LinearSlot slot, HessianAccumulator hessian)
    {
        if (slot.Layer is not DenseLinear dense)
            throw new InvalidOperationException($"GPTQ needs a full-precision layer at {slot.Name}, found '{slot.Layer.Kind}'.");
        var clock = Stopwatch.StartNew();
        var solved = GptqSolver.Quantize(dense.Weight, dense.OutFeatures, dense.InFeatures, hessian, options);
        slot.Layer = WeightOnlyResult.MakeLayer(solved.Quantized, dense.Bias, simulate);
        var report = new QuantizedLayerReport(slot.Name, dense.OutFeatures, dense.InFeatures, solved.Loss, solved.Damp, solved.DampRetries, clock.Elapsed.TotalSeconds);
        Result.Weights[slot.Name] = solved.Quantized;
        Result.Layers.Add(report);
        onLayer?.Invoke(report);
    }

    private sealed class Group(GptqMethod owner, IReadOnlyList<LinearSlot> group) : ILayerGroupCalibrator
    {
        private readonly HessianAccumulator _hessian = new(group[0].Layer.InFeatures);

        public void Observe(ReadOnlySpan<float> input, int rows) => _hessian.Add(input, rows);

        public void Apply()
        {
            foreach (var slot in group) owner.Solve(slot, _hessian);
        }
    }
}
