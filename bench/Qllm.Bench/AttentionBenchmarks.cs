using BenchmarkDotNet.Attributes;
using Qllm.Models.KvCache;
using Qllm.Models.Layers;

namespace Qllm.Bench;

/// <summary>Tiled causal attention of one layer of the 110M LLaMA (12 heads of 64) over a prefill of T tokens.</summary>
[MemoryDiagnoser]
public class AttentionBenchmarks
{
    private float[] _q = [], _output = [];
    private Fp32KvCache _cache = null!;

    [Params(512, 2048)] public int T { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        int width = 12 * 64;
        _q = Enumerable.Range(0, T * width).Select(_ => random.NextSingle()).ToArray();
        float[] kv = Enumerable.Range(0, T * width).Select(_ => random.NextSingle()).ToArray();
        _cache = new Fp32KvCache(1, 1, T, 12, 64);
        _cache.Layer(0).Write(0, 0, T, kv, kv);
        _output = new float[T * width];
    }

    [Benchmark]
    public void Prefill() => CausalAttention.Run(_q, _cache.Layer(0), new CausalAttention.Shape(1, T, 0, 12, 12, 64, null), _output);
}
