using System.Runtime.CompilerServices;
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

    private sealed class AddressRecorder : ILinearHook
    {
        public bool ChangesInput => false;
        public List<bool> SawCallersBuffer { get; } = [];
        public float[] Callers { get; set; } = [];
        public void BeforeForward(LinearSlot slot, Span<float> input, int rows) =>
            SawCallersBuffer.Add(Unsafe.AreSame(ref input[0], ref Callers[0]));
    }

    [Fact]
    public void ObservingHooksSeeTheCallersBufferAndAnyChangingHookForcesACopy()
    {
        // Calibration observes inputs of GBs: observers must not cost a copy, but a hook that changes its input
        // must never reach the caller's buffer.
        var slot = new LinearSlot("probe", new DenseLinear([1f, 2f, 3f, 4f], 2, 2));
        float[] input = [1f, 1f], output = new float[2];
        var observer = new AddressRecorder { Callers = input };
        slot.Hooks.Add(observer);
        slot.Forward(input, output, 1);
        Assert.Equal([3f, 7f], output);
        slot.Hooks.Add(new ZeroInput());
        slot.Forward(input, output, 1);
        Assert.Equal([0f, 0f], output);
        Assert.Equal([1f, 1f], input);
        Assert.Equal([true, false], observer.SawCallersBuffer);
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
