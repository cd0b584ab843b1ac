using Qllm.Models.Layers;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Models;

/// <summary>The linear-layer seam: hooks see every call and may rewrite inputs and outputs; layers can be swapped.</summary>
public class LinearSeamTests
{
    private sealed class Recorder : ILinearHook
    {
        public List<string> Seen { get; } = [];
        public void BeforeForward(LinearSlot slot, Span<float> input, int rows) => Seen.Add($"{slot.Name}:{rows}");
    }

    private sealed class ZeroInput : ILinearHook
    {
        public void BeforeForward(LinearSlot slot, Span<float> input, int rows) => input.Clear();
    }

    private sealed class Doubler : ILinearHook
    {
        public void AfterForward(LinearSlot slot, ReadOnlySpan<float> input, Span<float> output, int rows)
        {
            for (int i = 0; i < output.Length; i++) output[i] *= 2;
        }
    }

    [Fact]
    public void HooksObserveEveryLinearLayerOfEveryBlock()
    {
        var model = TinyModels.Llama(layers: 2);
        var recorder = new Recorder();
        foreach (var slot in model.BlockLinears()) slot.Hooks.Add(recorder);
        model.Forward([1, 2, 3], 1, 3);
        Assert.Equal(14, recorder.Seen.Count); // 7 linears × 2 blocks
        Assert.Equal("model.layers.0.self_attn.q_proj:3", recorder.Seen[0]);
        Assert.Equal("model.layers.1.mlp.down_proj:3", recorder.Seen[^1]);
    }

    [Fact]
    public void HooksCanReplaceInputsAndOutputsWithoutTouchingTheCallersBuffer()
    {
        var layer = new DenseLinear([1f, 2f, 3f, 4f], 2, 2, [0.5f, 0.5f]);
        var slot = new LinearSlot("probe", layer);
        float[] input = [1f, 1f], output = new float[2];
        slot.Hooks.Add(new ZeroInput());
        slot.Forward(input, output, 1);
        Assert.Equal([0.5f, 0.5f], output);          // only the bias survives a zeroed input
        Assert.Equal([1f, 1f], input);               // the caller's input is untouched
        slot.Hooks.Clear();
        slot.Hooks.Add(new Doubler());
        slot.Forward(input, output, 1);
        Assert.Equal([7f, 15f], output);             // 2 × ([3, 7] + 0.5)
    }

    [Fact]
    public void SwappingALayerChangesTheModel()
    {
        var model = TinyModels.Llama();
        float[] before = model.Forward([1, 2, 3], 1, 3);
        var slot = model.BlockLinears().First(s => s.Name.EndsWith("mlp.down_proj"));
        slot.Layer = new DenseLinear(new float[slot.Layer.OutFeatures * slot.Layer.InFeatures], slot.Layer.OutFeatures, slot.Layer.InFeatures);
        Assert.NotEqual(before, model.Forward([1, 2, 3], 1, 3));
    }
}
