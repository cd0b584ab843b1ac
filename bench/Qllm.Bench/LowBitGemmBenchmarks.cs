using BenchmarkDotNet.Attributes;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Quantization.Packed;

namespace Qllm.Bench;

/// <summary>
/// Packed low-bit layers (g128, asymmetric) against the fp32 layer on the 110M LLaMA's shapes: decode (M = 1),
/// where the packed GEMV reads 4–8× fewer bytes, and prefill (M = 512), where slices are dequantized for the fp32
/// micro-kernel. Bits = 32 is the fp32 <see cref="DenseLinear"/>. A single layer stays in cache between calls, so
/// decode ratios here understate those of a whole model, whose fp32 weights stream from memory.
/// </summary>
[MemoryDiagnoser]
public class LowBitGemmBenchmarks
{
    private float[] _x = [], _y = [];
    private ILinear _layer = null!;

    [Params(1, 512)] public int M { get; set; }
    /// <summary>out × in: the attention/MLP-up shape and the MLP-down shape.</summary>
    [Params("2048x768", "768x2048")] public string Shape { get; set; } = "";
    [Params(32, 8, 4, 3, 2)] public int Bits { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int n = int.Parse(Shape.Split('x')[0]), k = int.Parse(Shape.Split('x')[1]);
        var random = new Random(1);
        _x = Enumerable.Range(0, M * k).Select(_ => random.NextSingle() - 0.5f).ToArray();
        float[] w = Enumerable.Range(0, n * k).Select(_ => random.NextSingle() - 0.5f).ToArray();
        _layer = Bits == 32
            ? new DenseLinear(w, n, k)
            : new PackedLowBitLinear(WeightQuantizer.Quantize(w, n, k, new QuantSpec(Bits, Symmetric: false, GroupSize: 128)), null);
        _y = new float[M * n];
    }

    [Benchmark]
    public void Forward() => _layer.Forward(_x, _y, M);
}
