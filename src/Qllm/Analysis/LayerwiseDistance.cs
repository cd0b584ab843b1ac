using System.Buffers;
using Qllm.Calibration;
using Qllm.Models;
using Qllm.Models.KvCache;
using Qllm.Models.Layers;

namespace Qllm.Analysis;

/// <summary>
/// Runs the same calibration windows through the full-precision and the quantized model in lockstep, block by
/// block (as qllm-infer's get_layerwise_distance compares two whole forward passes): each block runs first with
/// its captured full-precision layers on the full-precision residual stream, recording every layer's input and
/// output, then with its quantized layers on the quantized stream, comparing. Memory holds two residual streams
/// and one block's recordings for one window, whatever the depth of the model. The LM head is compared on the
/// two streams' final hidden states. The model is left as it was.
/// </summary>
public static class LayerwiseDistance
{
    public static IReadOnlyList<LayerDistance> Measure(CausalLanguageModel model, FullPrecisionLayers fullPrecision, CalibrationSet set, IProgress<int>? windowsDone = null)
    {
        var config = model.Config;
        int rows = set.SeqLen;
        var slots = FullPrecisionLayers.Slots(model).ToList();
        var hooks = slots.ToDictionary(slot => slot, _ => new ComparingHook());
        var fullHidden = new float[checked(rows * config.HiddenSize)];
        var quantizedHidden = new float[fullHidden.Length];
        // The quantized stream keeps the model's own cache kind (a KV-cache quantizer is part of the quantized model).
        var fullCache = new Fp32KvCache(config.NumLayers, 1, rows, config.NumKvHeads, config.HeadDim);
        var quantizedCache = model.CreateKvCache(1, rows);
        var workspace = new ForwardWorkspace();
        for (int s = 0; s < set.Samples; s++)
        {
            model.Embed(set.Sample(s), 1, rows, 0, fullHidden);
            fullHidden.CopyTo(quantizedHidden);
            fullCache.Reset();
            quantizedCache.Reset();
            foreach (var block in model.Blocks)
            {
                var blockSlots = block.Linears;
                using (fullPrecision.SwapIn(blockSlots))
                    RunBlock(block, hooks, fullHidden, new ForwardContext(1, rows, 0, fullCache, workspace), record: true);
                RunBlock(block, hooks, quantizedHidden, new ForwardContext(1, rows, 0, quantizedCache, workspace), record: false);
            }
            CompareHead(model, fullPrecision[model.Head], hooks[model.Head], fullHidden, quantizedHidden, rows);
            windowsDone?.Report(s + 1);
        }
        return slots.Select(slot => new LayerDistance(slot.Name, slot.Layer.OutFeatures, slot.Layer.InFeatures, hooks[slot].Input, hooks[slot].Output)).ToList();
    }

    private static void RunBlock(IDecoderBlock block, Dictionary<LinearSlot, ComparingHook> hooks, float[] hidden, ForwardContext context, bool record)
    {
        foreach (var slot in block.Linears)
        {
            hooks[slot].Recording = record;
            slot.Hooks.Add(hooks[slot]);
        }
        try
        {
            block.Forward(hidden, context);
        }
        finally
        {
            foreach (var slot in block.Linears) slot.Hooks.Remove(hooks[slot]);
        }
    }

    private static void CompareHead(CausalLanguageModel model, ILinear fullPrecisionHead, ComparingHook hook, float[] fullHidden, float[] quantizedHidden, int rows)
    {
        int width = model.Config.HeadInputDim, vocab = model.Head.Layer.OutFeatures;
        var fullInput = new float[rows * width];
        var quantizedInput = new float[rows * width];
        var fullLogits = new float[rows * vocab];
        var quantizedLogits = new float[rows * vocab];
        model.Finish(fullHidden, fullInput, rows);
        model.Finish(quantizedHidden, quantizedInput, rows);
        fullPrecisionHead.Forward(fullInput, fullLogits, rows);
        model.Head.Layer.Forward(quantizedInput, quantizedLogits, rows);
        hook.Input.Add(fullInput, quantizedInput);
        hook.Output.Add(fullLogits, quantizedLogits);
    }

    /// <summary>Records a layer's input and output on the full-precision pass, and compares the quantized pass's with them.</summary>
    private sealed class ComparingHook : ILinearHook
    {
        private float[]? _input, _output;

        public bool ChangesInput => false;
        public bool Recording { get; set; }
        public QuantizationError Input { get; } = new();
        public QuantizationError Output { get; } = new();

        public void AfterForward(LinearSlot slot, ReadOnlySpan<float> input, Span<float> output, int rows)
        {
            var x = input[..(rows * slot.Layer.InFeatures)];
            if (Recording)
            {
                _input = Keep(x);
                _output = Keep(output);
                return;
            }
            Input.Add(_input.AsSpan(0, x.Length), x);
            Output.Add(_output.AsSpan(0, output.Length), output);
            ArrayPool<float>.Shared.Return(_input!);
            ArrayPool<float>.Shared.Return(_output!);
            _input = _output = null;
        }

        private static float[] Keep(ReadOnlySpan<float> values)
        {
            var copy = ArrayPool<float>.Shared.Rent(values.Length);
            values.CopyTo(copy);
            return copy;
        }
    }
}
