using System.Diagnostics;
using Qllm.Common;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Quantization.Packed;
using Qllm.Tensors;

namespace Qllm.Benchmarks;

/// <summary>
/// How close each weight format's decode GEMV comes to the memory's read bandwidth. The linear layers of one
/// decoder block of a random-weight shape are copied until each format's copies far exceed the caches, then called
/// one by one with one input row, as decode calls them; the formats take turns, one pass each per round, and each
/// round also measures the plain read loop of <c>qllm bench bandwidth</c> (<see cref="KernelBenchmarks.ReadBandwidth(float[], int)"/>)
/// as the reference. A format's figure is the weight bytes it streamed per second and that rate over the round's
/// read loop (a GEMV that keeps more loads in flight than the loop can pass it: fp32 does when the bandwidth is
/// high). Where decode of a low-bit model falls short of its byte ratio to fp32, this says whether the GEMVs are the
/// cause (the other parts of a decode step, attention and the LM head, are not in it).
/// </summary>
public static class GemvStreamBenchmark
{
    /// <summary>One format's passes: bytes a pass streams, its layers, and per round GB/s and the fraction of the ceiling.</summary>
    public sealed record Format(string Name, long BytesPerPass, int Layers, double[] GbPerSecond, double[] OfCeiling);

    /// <summary>The read bandwidth of every round, and every format's figures (rounds in the same order).</summary>
    public sealed record Result(double[] CeilingGbPerSecond, IReadOnlyList<Format> Formats);

    /// <param name="megabytes">Weight bytes each format streams per pass, at least (whole blocks are copied).</param>
    /// <param name="lowBit">The packed format's bits and groups (RTN codes: GPTQ's have the same layout and speed).</param>
    /// <param name="warmupSeconds">How long each format runs before timing: its first passes run the GEMVs' unoptimized
    /// first-tier code (and pack fp32 on first use), which tiered compilation replaces after about a second.</param>
    public static Result Run(string shape, long megabytes, int rounds, QuantSpec lowBit, double warmupSeconds = 1, Action<string>? progress = null)
    {
        if (!RandomModels.Shapes.TryGetValue(shape, out var s))
            throw new QllmException($"--shape: unknown shape '{shape}' (known: {string.Join(", ", RandomModels.Shapes.Keys)}).");
        if (megabytes < 1 || rounds < 1) throw new QllmException("--megabytes and --rounds must be at least 1.");
        if (!(warmupSeconds >= 0)) throw new QllmException($"--warmup must be 0 or more seconds, got {warmupSeconds}.");
        var block = BlockWeights(s.Dim, s.Dim / s.Heads * s.KvHeads, s.Hidden);
        long target = megabytes << 20;
        var formats = new (string Name, ILinear[] Layers)[]
        {
            ("fp32", Copies(block, target, w => new DenseLinear(w.Values, w.Out, w.In))),
            ("bf16", Copies(block, target, w => Bf16Linear.From(new DenseLinear(w.Values, w.Out, w.In)))),
            ($"packed {lowBit.Describe()}", PackedCopies(block, target, lowBit)),
        };
        var input = new float[Math.Max(s.Dim, s.Hidden)];
        for (int i = 0; i < input.Length; i++) input[i] = MathF.Sin(i) * 0.5f;
        var output = new float[Math.Max(s.Dim, s.Hidden)];
        foreach (var (name, layers) in formats)
        {
            HugePages.Advise(layers.SelectMany(layer => layer.PinnedStorage)); // as a model's layers are
            progress?.Invoke($"{name}: {layers.Length} layers, {Bytes(layers) / 1e6:F0} MB; warming up");
            var warm = Stopwatch.StartNew();
            do Pass(layers, input, output); while (warm.Elapsed.TotalSeconds < warmupSeconds);
        }
        var ceilingBuffer = GC.AllocateUninitializedArray<float>((int)Math.Min(Array.MaxLength, Math.Max(target, 256L << 20) / 4), pinned: true);
        ceilingBuffer.AsSpan().Fill(1f);
        long[] bytes = formats.Select(format => Bytes(format.Layers)).ToArray();
        var ceiling = new double[rounds];
        var rates = formats.Select(_ => new double[rounds]).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            ceiling[round] = KernelBenchmarks.ReadBandwidth(ceilingBuffer, repeats: 2);
            for (int turn = 0; turn < formats.Length; turn++)
            {
                int f = (turn + round) % formats.Length; // each format follows a different one from round to round
                var clock = Stopwatch.StartNew();
                Pass(formats[f].Layers, input, output);
                rates[f][round] = bytes[f] / clock.Elapsed.TotalSeconds / 1e9;
            }
            progress?.Invoke($"round {round + 1}/{rounds}: ceiling {ceiling[round]:F1} GB/s, "
                + string.Join(", ", formats.Select((format, f) => $"{format.Name} {rates[f][round]:F1}")));
        }
        return new Result(ceiling, formats.Select((format, f) => new Format(format.Name, bytes[f], format.Layers.Length, rates[f],
            rates[f].Select((rate, round) => rate / ceiling[round]).ToArray())).ToList());
    }

    private sealed record LayerWeight(float[] Values, int Out, int In);

    /// <summary>q, k, v, o, gate, up, down of one LLaMA block, uniform in ±0.05 (the values do not change the speed).</summary>
    private static LayerWeight[] BlockWeights(int dim, int kvDim, int hidden)
    {
        var random = new Random(1);
        LayerWeight Make(int rows, int columns)
        {
            var w = new float[(long)rows * columns];
            for (long i = 0; i < w.Length; i++) w[i] = (random.NextSingle() - 0.5f) * 0.1f;
            return new LayerWeight(w, rows, columns);
        }
        return [Make(dim, dim), Make(kvDim, dim), Make(kvDim, dim), Make(dim, dim), Make(hidden, dim), Make(hidden, dim), Make(dim, hidden)];
    }

    /// <summary>Whole blocks of layers, as many as make at least <paramref name="target"/> bytes.</summary>
    private static ILinear[] Copies(LayerWeight[] block, long target, Func<LayerWeight, ILinear> make)
    {
        var layers = new List<ILinear>();
        long bytes = 0;
        while (layers.Count == 0 || bytes < target)
        {
            var copy = block.Select(make).ToArray();
            layers.AddRange(copy);
            bytes += Bytes(copy);
        }
        return [.. layers];
    }

    private static ILinear[] PackedCopies(LayerWeight[] block, long target, QuantSpec spec)
    {
        var codes = block.Select(w => (w, q: WeightQuantizer.Quantize(w.Values, w.Out, w.In, spec))).ToDictionary(p => p.w, p => p.q);
        return Copies(block, target, w => new PackedLowBitLinear(codes[w], null));
    }

    private static long Bytes(IEnumerable<ILinear> layers) => layers.Sum(layer => layer.StorageBytes);

    private static void Pass(ILinear[] layers, float[] input, float[] output)
    {
        foreach (var layer in layers) layer.Forward(input.AsSpan(0, layer.InFeatures), output.AsSpan(0, layer.OutFeatures), 1);
    }
}
