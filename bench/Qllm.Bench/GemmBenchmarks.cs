using BenchmarkDotNet.Attributes;
using Qllm.Tensors;

namespace Qllm.Bench;

/// <summary>The linear-layer product on the 110M LLaMA's shapes: decode (M = 1, GEMV) and prefill (M = 512), fp32 and bf16 weights.</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _x = [], _y = [];
    private PackedMatrix _w = null!;

    [Params(1, 512)] public int M { get; set; }
    [Params(768, 2048)] public int N { get; set; }
    [Params(768)] public int K { get; set; }
    [Params(false, true)] public bool Bf16 { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _x = Enumerable.Range(0, M * K).Select(_ => random.NextSingle() - 0.5f).ToArray();
        _w = PackedMatrix.Pack(Enumerable.Range(0, N * K).Select(_ => random.NextSingle() - 0.5f).ToArray(), N, K, Bf16);
        _y = new float[M * N];
    }

    [Benchmark]
    public void Multiply() => Gemm.Multiply(_x, M, _w, _y);
}
