using BenchmarkDotNet.Attributes;
using Qllm.Tensors;

namespace Qllm.Bench;

/// <summary>The linear-layer product on the shapes of the 110M LLaMA: decode (M = 1) and prefill (M = 512).</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _x = [], _w = [], _y = [];

    [Params(1, 512)] public int M { get; set; }
    [Params(768)] public int K { get; set; }
    [Params(768, 2048)] public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _x = Enumerable.Range(0, M * K).Select(_ => random.NextSingle()).ToArray();
        _w = Enumerable.Range(0, N * K).Select(_ => random.NextSingle()).ToArray();
        _y = new float[M * N];
    }

    [Benchmark]
    public void MultiplyTransposed() => Gemm.MultiplyTransposed(_x, _w, _y, M, N, K);
}
