using System.Diagnostics;
using Qllm.Quantization;
using Qllm.Quantization.W8A8;
using Qllm.Tensors;

namespace Qllm.Benchmarks;

/// <summary>One shape's int8 and fp32 GEMM times (best of the rounds) and what they come to.</summary>
public sealed record Int8GemmTiming(int M, int N, int K, double Int8Seconds, double F32Seconds, double QuantizeSeconds, int Rounds)
{
    /// <summary>Integer operations (a multiply and an add per k) per second, in billions.</summary>
    public double Gops => 2.0 * M * N * K / Int8Seconds / 1e9;

    public double Gflops => 2.0 * M * N * K / F32Seconds / 1e9;

    /// <summary>How many times faster the int8 product is than the fp32 one, in the same run.</summary>
    public double Speedup => F32Seconds / Int8Seconds;
}

/// <summary>
/// <c>qllm bench gemm --dtype i8</c>: the int8 GEMM (activations quantized once beforehand, as weights are packed
/// once, and dequantization fused into the store) against the fp32 GEMM on the same M, N, K. The two alternate
/// round by round, so a machine that gets busier or cooler part-way affects both alike; each keeps its best round.
/// Per-token activation quantization, which <see cref="Int8Linear"/> adds to every call, is timed on its own.
/// </summary>
public static class Int8GemmBenchmark
{
    public static Int8GemmTiming Run(int m, int n, int k, int rounds = 10)
    {
        var random = new Random(1);
        float[] x = Enumerable.Range(0, m * k).Select(_ => random.NextSingle() - 0.5f).ToArray();
        float[] w = Enumerable.Range(0, n * k).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var spec = new ActivationQuantSpec(8, Symmetric: true, ActivationGranularity.PerToken);
        var codes = WeightQuantizer.Quantize(w, n, k, new QuantSpec(8, Symmetric: true));
        var int8Weight = new Int8Panels(codes.Codes, codes.Scales, codes.Zeros, n, k);
        var f32Weight = PackedMatrix.Pack(w, n, k);
        var activations = new Int8Activations();
        var y = new float[m * n];

        void Quantize() => Int8ActivationQuantizer.Quantize(x, m, k, spec, activations);
        void Int8() => Int8Gemm.Multiply(activations, int8Weight, y);
        void F32() => Gemm.Multiply(x, m, f32Weight, y);

        Quantize(); Int8(); F32(); // warm-up: JIT, page faults
        double int8Best = double.MaxValue, f32Best = double.MaxValue, quantizeBest = double.MaxValue;
        for (int round = 0; round < rounds; round++)
        {
            quantizeBest = Math.Min(quantizeBest, Seconds(Quantize));
            int8Best = Math.Min(int8Best, Seconds(Int8));
            f32Best = Math.Min(f32Best, Seconds(F32));
        }
        return new Int8GemmTiming(m, n, k, int8Best, f32Best, quantizeBest, rounds);
    }

    private static double Seconds(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The LLM shapes: M = 512 and 2048 tokens over OPT-125M-like (768) and LLaMA-7B-like (4096, 11008) projections.</summary>
    public static IReadOnlyList<(int M, int N, int K)> LlmShapes { get; } =
        [.. from m in new[] { 512, 2048 }
            from nk in new[] { (768, 768), (2048, 768), (768, 2048), (4096, 4096), (11008, 4096) }
            select (m, nk.Item1, nk.Item2)];
}
