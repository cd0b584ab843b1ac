using System.Buffers;
using System.Numerics.Tensors;
using Qllm.Models.KvCache;
using Qllm.Tensors;

namespace Qllm.Models.Layers;

/// <summary>
/// Causal scaled-dot-product attention with grouped-query heads (Ainslie et al. 2023), reading keys
/// and values from a KV cache that already holds this call's tokens. Query head h uses KV head
/// h / (numHeads / numKvHeads), as HF's repeat_kv does. One query row at a time, so no T×T matrix
/// is ever formed; the score row is vectorised over key positions (keys are stored transposed).
/// </summary>
public static class CausalAttention
{
    public readonly record struct Shape(int Batch, int SeqLen, int StartPosition, int NumHeads, int NumKvHeads, int HeadDim, int? SlidingWindow)
    {
        public int QDim => NumHeads * HeadDim;
    }

    /// <param name="queries">[batch·seqLen, numHeads·headDim], RoPE already applied.</param>
    /// <param name="output">[batch·seqLen, numHeads·headDim].</param>
    public static void Run(float[] queries, IKvCacheLayer cache, Shape shape, float[] output)
    {
        int total = shape.StartPosition + shape.SeqLen;
        long work = (long)shape.Batch * shape.NumHeads * shape.SeqLen * total * shape.HeadDim;
        Compute.For(shape.Batch * shape.NumHeads, work > 1 << 16,
            task => Head(queries, cache, shape, output, task / shape.NumHeads, task % shape.NumHeads));
    }

    private static void Head(float[] queries, IKvCacheLayer cache, Shape s, float[] output, int sequence, int head)
    {
        int hd = s.HeadDim;
        int total = s.StartPosition + s.SeqLen;
        int kvHead = head / (s.NumHeads / s.NumKvHeads);
        float scale = 1f / MathF.Sqrt(hd);
        float[] keyScratch = ArrayPool<float>.Shared.Rent(hd * total);
        float[] valueScratch = ArrayPool<float>.Shared.Rent(hd * total);
        float[] scores = ArrayPool<float>.Shared.Rent(total);
        try
        {
            var keys = cache.ReadKeys(sequence, kvHead, total, keyScratch, out int keyStride);
            var values = cache.ReadValues(sequence, kvHead, total, valueScratch, out int valueStride);
            for (int t = 0; t < s.SeqLen; t++)
            {
                int position = s.StartPosition + t;
                int first = s.SlidingWindow is int window ? Math.Max(0, position - window + 1) : 0;
                int count = position + 1 - first;
                int row = (sequence * s.SeqLen + t) * s.QDim + head * hd;
                var q = new ReadOnlySpan<float>(queries, row, hd);
                var score = scores.AsSpan(0, count);
                score.Clear();
                for (int d = 0; d < hd; d++)
                    TensorPrimitives.MultiplyAdd(keys.Slice(d * keyStride + first, count), q[d] * scale, score, score);
                Elementwise.Softmax(score);
                var o = output.AsSpan(row, hd);
                for (int d = 0; d < hd; d++)
                    o[d] = TensorPrimitives.Dot(score, values.Slice(d * valueStride + first, count));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(keyScratch);
            ArrayPool<float>.Shared.Return(valueScratch);
            ArrayPool<float>.Shared.Return(scores);
        }
    }
}
