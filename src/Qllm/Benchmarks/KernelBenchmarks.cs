using System.Diagnostics;
using System.Runtime.Intrinsics;
using Qllm.Models;
using Qllm.Models.KvCache;
using Qllm.Tensors;

namespace Qllm.Benchmarks;

/// <summary>One timing: the median of repeated runs after warm-up, with what was measured.</summary>
public sealed record Timing(double MedianSeconds, double BestSeconds, int Repeats);

/// <summary>
/// The measurements behind <c>qllm bench</c>. Each runs warm-up iterations first, then reports the median
/// (and best) of several timed repeats, so figures are comparable with the anchors of bench/compare.sh.
/// </summary>
public static class KernelBenchmarks
{
    public static Timing Time(Action action, int repeats, double minSeconds = 0.5)
    {
        action(); // warm-up: JIT, packing, page faults
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < repeats || total.Elapsed.TotalSeconds < minSeconds)
        {
            var clock = Stopwatch.StartNew();
            action();
            samples.Add(clock.Elapsed.TotalSeconds);
            if (samples.Count >= 1000) break;
        }
        samples.Sort();
        return new Timing(samples[samples.Count / 2], samples[0], samples.Count);
    }

    /// <summary>GFLOPS of Y = X·Wᵀ for m×k by n×k, with W packed once (as a layer holds it).</summary>
    public static (double Gflops, Timing Timing) Gemm(int m, int n, int k, bool bf16, int repeats = 5)
    {
        var random = new Random(1);
        float[] x = Enumerable.Range(0, m * k).Select(_ => random.NextSingle() - 0.5f).ToArray();
        float[] w = Enumerable.Range(0, n * k).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var packed = PackedMatrix.Pack(w, n, k, bf16);
        var y = new float[m * n];
        var timing = Time(() => Tensors.Gemm.Multiply(x, m, packed, y), repeats);
        return (2.0 * m * n * k / timing.MedianSeconds / 1e9, timing);
    }

    /// <summary>
    /// Tokens per second of a cache-less forward pass over one sequence, blocks and the full [seqLen, vocab] logits
    /// (the work of PyTorch's anchor). The hidden states and logits go to buffers kept across repeats, as a
    /// perplexity or serving loop keeps them: a fresh 262 MB logits array per pass (seqlen 2048) would time the
    /// operating system's page zeroing, about 5% of the pass, rather than the kernels.
    /// </summary>
    public static (double TokensPerSecond, Timing Timing) Prefill(CausalLanguageModel model, int seqLen, int repeats = 3)
    {
        var timing = Time(PrefillPass(model, seqLen), repeats, minSeconds: 1);
        return (seqLen / timing.MedianSeconds, timing);
    }

    /// <summary>Tokens per second of one-token decode steps through the KV cache, after a one-token prompt.</summary>
    public static (double TokensPerSecond, double Seconds) Decode(CausalLanguageModel model, int tokens)
    {
        var session = new DecodeSession(model, tokens);
        session.Run(Math.Min(tokens, 16)); // warm-up
        session.Restart();
        var clock = Stopwatch.StartNew();
        session.Run(tokens);
        double seconds = clock.Elapsed.TotalSeconds;
        return (tokens / seconds, seconds);
    }

    /// <summary>
    /// Decode speed of several models measured against each other on a shared, noisy host: each round decodes
    /// <paramref name="tokens"/> tokens with every model, <paramref name="segment"/> steps at a time in turn (the
    /// first model of each turn rotating), so a burst of outside load falls on all of them alike. Returns tokens/s
    /// [round, model]; ratios of one round compare like with like.
    /// </summary>
    public static double[,] DecodeInterleaved(IReadOnlyList<CausalLanguageModel> models, int tokens, int rounds, int segment = 16)
    {
        var sessions = models.Select(m => new DecodeSession(m, tokens)).ToArray();
        var speeds = new double[rounds, models.Count];
        // Round −1 is a warm-up, untimed: the whole decode once per model, so every method on the way (not only the
        // kernels, which are compiled fully optimized at once) has reached the JIT's final tier before timing starts.
        for (int round = -1; round < rounds; round++)
        {
            var seconds = new double[models.Count];
            foreach (var session in sessions) session.Restart();
            for (int start = 0, turn = 0; start < tokens; start += segment, turn++)
            {
                int steps = Math.Min(segment, tokens - start);
                for (int j = 0; j < models.Count; j++)
                {
                    int i = (turn + j) % models.Count;
                    var clock = Stopwatch.StartNew();
                    sessions[i].Run(steps);
                    seconds[i] += clock.Elapsed.TotalSeconds;
                }
            }
            if (round >= 0)
                for (int i = 0; i < models.Count; i++) speeds[round, i] = tokens / seconds[i];
        }
        return speeds;
    }

    /// <summary>
    /// Prefill speed (<see cref="Prefill"/>'s pass) of several models measured against each other: each round runs
    /// one pass per model, the order rotating from round to round. Returns tokens/s [round, model].
    /// </summary>
    public static double[,] PrefillInterleaved(IReadOnlyList<CausalLanguageModel> models, int seqLen, int rounds)
    {
        var passes = models.Select(m => PrefillPass(m, seqLen)).ToArray();
        foreach (var pass in passes) pass(); // warm-up
        var speeds = new double[rounds, models.Count];
        for (int round = 0; round < rounds; round++)
            for (int j = 0; j < models.Count; j++)
            {
                int i = (round + j) % models.Count;
                var clock = Stopwatch.StartNew();
                passes[i]();
                speeds[round, i] = seqLen / clock.Elapsed.TotalSeconds;
            }
        return speeds;
    }

    private static Action PrefillPass(CausalLanguageModel model, int seqLen)
    {
        int[] tokens = Enumerable.Range(0, seqLen).Select(i => 3 + i * 7919 % (model.Config.VocabSize - 3)).ToArray();
        var hidden = new float[(long)seqLen * model.Config.HeadInputDim];
        var logits = new float[(long)seqLen * model.Config.VocabSize];
        return () =>
        {
            model.ForwardHidden(tokens, 1, seqLen, null, hidden);
            model.Logits(hidden, logits, seqLen);
        };
    }

    /// <summary>A decode loop without sampling: a fixed token sequence through the KV cache, the logits computed at every step.</summary>
    private sealed class DecodeSession(CausalLanguageModel model, int capacity)
    {
        private readonly IKvCache _cache = model.CreateKvCache(1, capacity);
        private readonly float[] _logits = new float[model.Config.VocabSize];
        private readonly int[] _token = [1];
        private readonly float[] _hidden = new float[model.Config.HeadInputDim];

        public void Restart()
        {
            _cache.Reset();
            _token[0] = 1;
        }

        public void Run(int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                model.ForwardHidden(_token, 1, 1, _cache, _hidden);
                model.Logits(_hidden, _logits, 1);
                _token[0] = 3 + (_cache.Length + 1) % (model.Config.VocabSize - 3);
            }
        }
    }

    /// <summary>
    /// Streaming-read bandwidth (GB/s) over a buffer far larger than the caches, on all compute threads:
    /// the ceiling for decode, which must read every weight once per token.
    /// </summary>
    public static double ReadBandwidth(long bytes = 1L << 30, int repeats = 5)
    {
        var buffer = GC.AllocateUninitializedArray<float>((int)(bytes / 4), pinned: true);
        buffer.AsSpan().Fill(1f);
        return ReadBandwidth(buffer, repeats);
    }

    /// <summary>The best of <paramref name="repeats"/> streaming reads of a buffer (pinned), as <see cref="ReadBandwidth(long, int)"/>.</summary>
    public static unsafe double ReadBandwidth(float[] buffer, int repeats)
    {
        int floats = buffer.Length, threads = Compute.Threads;
        long bytes = 4L * floats;
        double best = 0;
        fixed (float* p = buffer)
        {
            float* basePointer = p;
            for (int r = 0; r < repeats; r++)
            {
                var clock = Stopwatch.StartNew();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    long start = (long)floats * t / threads, end = (long)floats * (t + 1) / threads;
                    var sum = Vector512<float>.Zero;
                    for (long i = start; i + 16 <= end; i += 16) sum += Vector512.Load(basePointer + i);
                    if (Vector512.Sum(sum) == -1f) Console.Write(""); // keep the loop alive
                });
                best = Math.Max(best, bytes / clock.Elapsed.TotalSeconds / 1e9);
            }
        }
        return best;
    }
}
