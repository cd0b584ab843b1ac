using Qllm.Calibration;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Calibration;

/// <summary>
/// The shared calibration loop against a plain forward pass of the model (the oracle): what each layer group
/// observes must be exactly the input that layer sees in an ordinary forward pass of the model as quantized so far.
/// </summary>
public class CalibrationPipelineTests
{
    private const int Samples = 3, SeqLen = 10;

    private static CalibrationSet Set(int vocab)
    {
        var tokens = new int[Samples * SeqLen];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = (i * 7 + 3) % vocab;
        return new CalibrationSet(tokens, Samples, SeqLen, "test", tokens.Length, []);
    }

    /// <summary>Records each group's observed inputs (rows concatenated in sample order) and applies RTN to the group.</summary>
    private sealed class RecordingRtn(QuantSpec? spec) : ICalibrationMethod
    {
        public Dictionary<string, List<float>> Observed { get; } = [];
        public List<string> Order { get; } = [];
        public QuantSpec? Spec => spec;
        public string Name => "recording";

        public ILayerGroupCalibrator Begin(IDecoderBlock block, IReadOnlyList<LinearSlot> group) => new Group(this, group);

        private sealed class Group(RecordingRtn owner, IReadOnlyList<LinearSlot> group) : ILayerGroupCalibrator
        {
            public void Observe(ReadOnlySpan<float> input, int rows)
            {
                if (!owner.Observed.TryGetValue(group[0].Name, out var list)) owner.Observed[group[0].Name] = list = [];
                list.AddRange(input[..(rows * group[0].Layer.InFeatures)].ToArray());
            }

            public void Apply()
            {
                owner.Order.Add(group[0].Name);
                if (owner.Spec is not { } quantSpec) return;
                foreach (var slot in group) slot.Layer = RtnMethod.FakeQuantize(slot.Layer, quantSpec);
            }
        }
    }

    /// <summary>Inputs of each group's first layer during ordinary forward passes of every sample.</summary>
    private static Dictionary<string, List<float>> InputsOfAForward(CausalLanguageModel model, CalibrationSet set)
    {
        var recorded = new Dictionary<string, List<float>>();
        var hook = new Recorder(recorded);
        var firsts = model.Blocks.SelectMany(b => b.SequentialGroups).Select(g => g[0]).ToList();
        foreach (var slot in firsts) slot.Hooks.Add(hook);
        for (int s = 0; s < set.Samples; s++) model.ForwardHidden(set.Sample(s), 1, set.SeqLen);
        foreach (var slot in firsts) slot.Hooks.Remove(hook);
        return recorded;
    }

    private sealed class Recorder(Dictionary<string, List<float>> recorded) : ILinearHook
    {
        public void BeforeForward(LinearSlot slot, Span<float> input, int rows)
        {
            if (!recorded.TryGetValue(slot.Name, out var list)) recorded[slot.Name] = list = [];
            list.AddRange(input[..(rows * slot.Layer.InFeatures)].ToArray());
        }
    }

    public static TheoryData<string, bool, long?> Schedules() => new()
    {
        { "llama", true, null },       // true-sequential, single pass
        { "llama", true, 1 },          // true-sequential, one sample per chunk (the reference's schedule)
        { "llama", false, null },      // all groups observed on the unquantized block
        { "opt", true, null },
        { "opt", false, 1 },
    };

    private static CausalLanguageModel Model(string family) => family == "llama" ? TinyModels.Llama(layers: 3) : TinyModels.Opt(layers: 3);

    [Theory]
    [MemberData(nameof(Schedules))]
    public void WithoutChangesEveryGroupSeesTheInputsOfAnOrdinaryForward(string family, bool trueSequential, long? budget)
    {
        var model = Model(family);
        var set = Set(model.Config.VocabSize);
        var expected = InputsOfAForward(model, set);
        var method = new RecordingRtn(null);
        CalibrationPipeline.Run(model, set, method, trueSequential, memoryBudgetBytes: budget);
        Assert.Equal(expected.Keys.Order(), method.Observed.Keys.Order());
        foreach (var (name, values) in expected) ModelAssert.Close(values.ToArray(), method.Observed[name].ToArray(), 1e-6);
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void EachGroupIsCalibratedOnWhatTheLayersQuantizedBeforeItProduce(string family, bool trueSequential, long? budget)
    {
        var spec = new QuantSpec(3, false);
        var model = Model(family);
        var set = Set(model.Config.VocabSize);
        var method = new RecordingRtn(spec);
        CalibrationPipeline.Run(model, set, method, trueSequential, memoryBudgetBytes: budget);
        Assert.Equal(model.Blocks.SelectMany(b => b.SequentialGroups).Select(g => g[0].Name), method.Order);

        // Oracle: replay the schedule on a fresh copy with plain forward passes, quantizing group by group.
        var oracle = Model(family);
        var groups = oracle.Blocks.SelectMany(b => b.SequentialGroups).ToList();
        if (trueSequential)
        {
            foreach (var group in groups)
            {
                var inputs = InputsOfAForward(oracle, set)[group[0].Name];
                ModelAssert.Close(inputs.ToArray(), method.Observed[group[0].Name].ToArray(), 1e-5);
                foreach (var slot in group) slot.Layer = RtnMethod.FakeQuantize(slot.Layer, spec);
            }
        }
        else
        {
            foreach (var block in oracle.Blocks)
            {
                var inputs = InputsOfAForward(oracle, set);
                foreach (var group in block.SequentialGroups)
                    ModelAssert.Close(inputs[group[0].Name].ToArray(), method.Observed[group[0].Name].ToArray(), 1e-5);
                foreach (var slot in block.Linears) slot.Layer = RtnMethod.FakeQuantize(slot.Layer, spec);
            }
        }
        Assert.All(model.BlockLinears(), slot => Assert.Empty(slot.Hooks));
    }

    [Fact]
    public void TrueSequentialDiffersFromObservingTheUnquantizedBlock()
    {
        // Guards the test above against passing vacuously: the two schedules must observe different o_proj inputs.
        var spec = new QuantSpec(2, false);
        var runs = new[] { true, false }.Select(sequential =>
        {
            var model = Model("llama");
            var method = new RecordingRtn(spec);
            CalibrationPipeline.Run(model, Set(model.Config.VocabSize), method, sequential);
            return method.Observed[model.Blocks[0].SequentialGroups[1][0].Name].ToArray();
        }).ToArray();
        Assert.NotEqual(runs[0], runs[1]);
    }
}
