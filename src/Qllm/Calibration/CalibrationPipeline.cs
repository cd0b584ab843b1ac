using System.Diagnostics;
using Qllm.Models;
using Qllm.Models.KvCache;
using Qllm.Models.Layers;

namespace Qllm.Calibration;

/// <summary>Where the pipeline is: block (0-based) of blocks, and what it is doing.</summary>
public sealed record CalibrationProgress(int Block, int Blocks, string Stage);

/// <summary>Seconds spent capturing block inputs, observing layer inputs (e.g. Hessians), applying the method (e.g. the GPTQ solve) and running blocks forward.</summary>
public sealed record CalibrationTimings(double Capture, double Observe, double Apply, double Forward, int ForwardPasses, int SamplesPerChunk);

/// <summary>
/// The calibration loop every method shares, as GPTQ's llama_sequential/opt_sequential do: capture the inputs
/// of the first decoder block (the embeddings), then for each block in turn let the method observe the inputs of
/// each group of linear layers, apply it, and run the block forward with its new layers; those outputs are
/// the next block's inputs. Memory holds the hidden states of all samples plus one block's activations.
/// <para>
/// With <c>trueSequential</c> (GPTQ §4 "true sequential"; AutoGPTQ's default), each group (q/k/v, o, gate/up,
/// down) is calibrated on inputs computed by the already-quantized groups before it. When the whole calibration
/// batch fits the memory budget this costs a single forward per block: the block runs once over all samples and
/// each group is quantized at the moment its inputs arrive, which gives exactly the reference's result without
/// its one extra forward per group. Otherwise, and without true-sequential, the reference's schedule is used
/// over chunks of samples: one observing forward per stage, then the final forward.
/// </para>
/// <para>
/// An optional <see cref="IBlockCalibrator"/> (ZeroQuant's LKD) sees each block's inputs before the group steps and
/// its outputs after the final forward; with no layer-group method the blocks just run forward between the two calls.
/// </para>
/// </summary>
public static class CalibrationPipeline
{
    /// <param name="method">The layer-group method; null runs each block as it is (for a block calibrator alone).</param>
    /// <param name="blockCalibrator">Optionally sees each block's inputs before and its outputs after the group steps.</param>
    public static CalibrationTimings Run(CausalLanguageModel model, CalibrationSet set, ICalibrationMethod? method, bool trueSequential,
        IProgress<CalibrationProgress>? progress = null, long? memoryBudgetBytes = null, IBlockCalibrator? blockCalibrator = null)
    {
        var config = model.Config;
        int samples = set.Samples, seqLen = set.SeqLen, width = config.HiddenSize;
        var clock = new Clocks();

        var capture = Stopwatch.StartNew();
        var hidden = GC.AllocateUninitializedArray<float>(checked(samples * seqLen * width));
        for (int s = 0; s < samples; s++)
            model.Embed(set.Sample(s), 1, seqLen, 0, hidden.AsSpan(s * seqLen * width, seqLen * width));
        clock.Capture = capture.Elapsed.TotalSeconds;

        int chunk = SamplesPerChunk(config, samples, seqLen, memoryBudgetBytes ?? DefaultBudget());
        var cache = new SingleLayerKvCache(new Fp32KvCache(1, chunk, seqLen, config.NumKvHeads, config.HeadDim));
        var workspace = new ForwardWorkspace(); // this run's activation buffers, dropped at the end (they can be GBs)
        bool singlePass = trueSequential && chunk == samples;
        var blocks = model.Blocks;
        foreach (var block in blocks)
        {
            void Report(string stage) => progress?.Report(new CalibrationProgress(block.Index, blocks.Count, stage));
            blockCalibrator?.BeforeBlock(block, hidden, samples, seqLen);
            if (method is null)
            {
                Report("forward");
                RunForward(block, hidden, samples, chunk, seqLen, width, cache, workspace, clock, inPlace: true);
            }
            else
            {
                CalibrateGroups(block, method, Report);
            }
            if (blockCalibrator != null)
            {
                Report("block calibration");
                var blockClock = Stopwatch.StartNew();
                blockCalibrator.AfterBlock(block, hidden, samples, seqLen);
                clock.Apply += blockClock.Elapsed.TotalSeconds;
            }
        }
        return new CalibrationTimings(clock.Capture, clock.Observe, clock.Apply, clock.Forward - clock.InHooks, clock.Passes, chunk);

        void CalibrateGroups(IDecoderBlock block, ICalibrationMethod method, Action<string> report)
        {
            var groups = block.SequentialGroups;
            if (singlePass)
            {
                report("quantizing each layer group as its inputs arrive");
                var hooks = groups.Select(g => Attach(method.Begin(block, g), g, applyAfterObserving: true, clock)).ToList();
                RunForward(block, hidden, samples, samples, seqLen, width, cache, workspace, clock, inPlace: true);
                Detach(hooks);
                return;
            }
            IEnumerable<IReadOnlyList<IReadOnlyList<LinearSlot>>> stages = trueSequential ? groups.Select(g => (IReadOnlyList<IReadOnlyList<LinearSlot>>)[g]) : [groups];
            foreach (var stage in stages)
            {
                report($"observing {string.Join(", ", stage.Select(Describe))}");
                var hooks = stage.Select(g => Attach(method.Begin(block, g), g, applyAfterObserving: false, clock)).ToList();
                RunForward(block, hidden, samples, chunk, seqLen, width, cache, workspace, clock, inPlace: false);
                Detach(hooks);
                foreach (var (calibrator, group) in hooks.Select(h => (h.Hook.Calibrator, h.Group)))
                {
                    report($"applying {method.Name} to {Describe(group)}");
                    var applyClock = Stopwatch.StartNew();
                    calibrator.Apply();
                    clock.Apply += applyClock.Elapsed.TotalSeconds;
                }
            }
            report("forward with the new layers");
            RunForward(block, hidden, samples, chunk, seqLen, width, cache, workspace, clock, inPlace: true);
        }
    }

    private static string Describe(IReadOnlyList<LinearSlot> group) => string.Join("/", group.Select(s => s.Name[(s.Name.LastIndexOf('.') + 1)..]));

    /// <summary>Runs the block over all samples in chunks; in place, or on a copy when only the hooks' observations are wanted.</summary>
    private static void RunForward(IDecoderBlock block, float[] hidden, int samples, int chunk, int seqLen, int width, IKvCache cache, ForwardWorkspace workspace, Clocks clock, bool inPlace)
    {
        var watch = Stopwatch.StartNew();
        float[]? scratch = inPlace ? null : GC.AllocateUninitializedArray<float>(chunk * seqLen * width);
        for (int first = 0; first < samples; first += chunk)
        {
            int count = Math.Min(chunk, samples - first);
            var states = hidden.AsSpan(first * seqLen * width, count * seqLen * width);
            if (scratch != null)
            {
                states.CopyTo(scratch);
                states = scratch.AsSpan(0, states.Length);
            }
            cache.Reset();
            // The cache holds `chunk` sequences; a smaller last chunk uses its first `count` (blocks only touch those).
            block.Forward(states, new ForwardContext(count, seqLen, 0, cache, workspace));
        }
        clock.Forward += watch.Elapsed.TotalSeconds;
        clock.Passes++;
    }

    private sealed record Attached(ObservingHook Hook, IReadOnlyList<LinearSlot> Group);

    /// <summary>The group's layers all read the same input, so one hook on the first of them (the one that runs first) sees it.</summary>
    private static Attached Attach(ILayerGroupCalibrator calibrator, IReadOnlyList<LinearSlot> group, bool applyAfterObserving, Clocks clock)
    {
        var hook = new ObservingHook(calibrator, applyAfterObserving, clock);
        group[0].Hooks.Add(hook);
        return new Attached(hook, group);
    }

    private static void Detach(IEnumerable<Attached> attached)
    {
        foreach (var a in attached) a.Group[0].Hooks.Remove(a.Hook);
    }

    /// <summary>
    /// Bytes the block activations of one calibration sample need: the hidden copy, q/k/v/attention, the MLP's two
    /// intermediate buffers and the KV cache. Observing hooks see the block's own buffers (no copy), and methods
    /// reduce what they observe as it arrives (GPTQ's Hessian works through chunks of rows).
    /// </summary>
    private static long BytesPerSample(ModelConfig c, int seqLen)
    {
        long floatsPerToken = 2L * c.HiddenSize + 2L * c.QDim + 4L * c.KvDim + 2L * c.IntermediateSize;
        return floatsPerToken * seqLen * sizeof(float);
    }

    private static int SamplesPerChunk(ModelConfig config, int samples, int seqLen, long budget)
    {
        long perSample = BytesPerSample(config, seqLen);
        long byBudget = Math.Max(1, budget / perSample);
        // Blocks index their buffers with int: rows × the widest activation must stay below 2^31 elements.
        long byIndex = Math.Max(1, int.MaxValue / ((long)seqLen * Math.Max(config.IntermediateSize, config.QDim + 2 * config.KvDim)));
        return (int)Math.Min(samples, Math.Min(byBudget, byIndex));
    }

    /// <summary>
    /// Three quarters of the memory the runtime may use, minus what is already in use (the model and the hidden
    /// states): the rest is headroom for the method's own state and the runtime. 128 × 2048 tokens of the 110M
    /// LLaMA need 10.7 GB of activations, which a 24 GB machine then holds in one batch (a single pass per block).
    /// </summary>
    private static long DefaultBudget()
    {
        var info = GC.GetGCMemoryInfo();
        return Math.Max(256L << 20, info.TotalAvailableMemoryBytes * 3 / 4 - GC.GetTotalMemory(false));
    }

    private sealed class Clocks
    {
        public double Capture, Observe, Apply, Forward, InHooks;
        public int Passes;
    }

    /// <summary>Hands each input of the group's first layer to the calibrator; in single-pass mode applies it right away, before that layer runs.</summary>
    private sealed class ObservingHook(ILayerGroupCalibrator calibrator, bool applyAfterObserving, Clocks clock) : ILinearHook
    {
        public bool ChangesInput => false;

        public ILayerGroupCalibrator Calibrator => calibrator;

        public void BeforeForward(LinearSlot slot, Span<float> input, int rows)
        {
            var watch = Stopwatch.StartNew();
            calibrator.Observe(input, rows);
            double observed = watch.Elapsed.TotalSeconds;
            clock.Observe += observed;
            clock.InHooks += observed;
            if (!applyAfterObserving) return;
            watch.Restart();
            // LinearSlot reads Layer after its hooks ran, so this very call already uses the quantized layer.
            calibrator.Apply();
            double applied = watch.Elapsed.TotalSeconds;
            clock.Apply += applied;
            clock.InHooks += applied;
        }
    }
}
