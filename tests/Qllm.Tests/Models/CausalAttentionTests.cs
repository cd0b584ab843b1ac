using Qllm.Models.KvCache;
using Qllm.Models.Layers;
using Qllm.Tensors.Kernels;
using Qllm.Tests.Support;
using Qllm.Tests.Tensors;
using Xunit;

namespace Qllm.Tests.Models;

/// <summary>The tiled (online-softmax) attention against the textbook formula in double precision.</summary>
[Collection(KernelPathCollection.Name)]
public class CausalAttentionTests
{
    /// <summary>Oracle: softmax(q·kᵀ/√d) over keys [max(0, p − window + 1), p], times v; GQA by repeating KV heads.</summary>
    private static double[] Naive(float[] q, float[] k, float[] v, int batch, int seqLen, int start, int heads, int kvHeads, int hd, int? window)
    {
        int total = start + seqLen, qDim = heads * hd, kvDim = kvHeads * hd;
        var output = new double[batch * seqLen * qDim];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int t = 0; t < seqLen; t++)
                {
                    int position = start + t, g = h / (heads / kvHeads);
                    int first = window is int w ? Math.Max(0, position - w + 1) : 0;
                    var scores = new double[position + 1];
                    double max = double.NegativeInfinity;
                    for (int j = first; j <= position; j++)
                    {
                        double s = 0;
                        for (int d = 0; d < hd; d++) s += (double)q[(b * seqLen + t) * qDim + h * hd + d] * k[(b * total + j) * kvDim + g * hd + d];
                        scores[j] = s / Math.Sqrt(hd);
                        max = Math.Max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = first; j <= position; j++) sum += scores[j] = Math.Exp(scores[j] - max);
                    for (int d = 0; d < hd; d++)
                    {
                        double o = 0;
                        for (int j = first; j <= position; j++) o += scores[j] / sum * v[(b * total + j) * kvDim + g * hd + d];
                        output[(b * seqLen + t) * qDim + h * hd + d] = o;
                    }
                }
        return output;
    }

    public static TheoryData<KernelPath, int, int, int, int, int?> Cases()
    {
        var data = new TheoryData<KernelPath, int, int, int, int, int?>();
        foreach (var path in new[] { KernelPath.Avx512, KernelPath.Avx2, KernelPath.Portable })
        {
            data.Add(path, 8, 37, 0, 2, null);     // stories260K's head size, odd length, GQA 4:2
            data.Add(path, 64, 70, 0, 4, null);    // two 32-wide feature chunks, several key blocks
            data.Add(path, 80, 19, 45, 1, null);   // a 16-wide remainder, continuing a cache (start 45), multi-query
            data.Add(path, 16, 50, 0, 2, 7);       // a sliding window narrower than a key block
            data.Add(path, 32, 1, 66, 2, null);    // one decode step
            data.Add(path, 8, 1, 37, 2, null);     // a decode step with a head narrower than a vector (the scores' scalar path)
            data.Add(path, 64, 1, 101, 4, 39);     // a decode step in a window of 39 keys: four positions at a time, then 3 alone
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheTextbookFormula(KernelPath path, int hd, int seqLen, int start, int kvHeads, int? window)
    {
        const int batch = 2, heads = 4;
        int total = start + seqLen, qDim = heads * hd, kvDim = kvHeads * hd;
        float[] q = DeterministicWeights.Generate("attn.q", batch * seqLen * qDim, 2f);
        float[] k = DeterministicWeights.Generate("attn.k", batch * total * kvDim, 2f);
        float[] v = DeterministicWeights.Generate("attn.v", batch * total * kvDim, 1f);
        var cache = new Fp32KvCache(1, batch, total, kvHeads, hd);
        for (int b = 0; b < batch; b++)
            cache.Layer(0).Write(b, 0, total, k.AsSpan(b * total * kvDim, total * kvDim), v.AsSpan(b * total * kvDim, total * kvDim));
        var output = new float[batch * seqLen * qDim];
        var previous = KernelSelector.Force(path);
        try { CausalAttention.Run(q, cache.Layer(0), new CausalAttention.Shape(batch, seqLen, start, heads, kvHeads, hd, window), output); }
        finally { KernelSelector.Force(previous); }
        double[] expected = Naive(q, k, v, batch, seqLen, start, heads, kvHeads, hd, window);
        for (int i = 0; i < output.Length; i++)
            Assert.True(Math.Abs(output[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"{path} element {i}: {output[i]} vs {expected[i]}");
    }

    [Fact]
    public void PrefetchingAHeadStaysInsideItAndChangesNothing()
    {
        // Decode attention asks the cache for each head's first lines (a hint): for the last head of the last
        // sequence at full capacity, and for a head holding a single position, it must stay in the arrays.
        const int batch = 2, kvHeads = 3, hd = 8, capacity = 5;
        var cache = new Fp32KvCache(1, batch, capacity, kvHeads, hd);
        float[] k = DeterministicWeights.Generate("prefetch.k", capacity * kvHeads * hd, 1f), v = DeterministicWeights.Generate("prefetch.v", capacity * kvHeads * hd, 1f);
        for (int b = 0; b < batch; b++) cache.Layer(0).Write(b, 0, capacity, k, v);
        var before = cache.Layer(0).ReadKeys(batch - 1, kvHeads - 1, capacity, default, out _).ToArray();
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < kvHeads; h++)
                foreach (int length in new[] { 1, capacity })
                    foreach (int bytes in new[] { 4, CausalAttention.HeadStartBytes, CausalAttention.NextHeadBytes }) cache.Layer(0).Prefetch(b, h, length, bytes);
        Assert.Equal(before, cache.Layer(0).ReadKeys(batch - 1, kvHeads - 1, capacity, default, out _).ToArray());
    }
}
