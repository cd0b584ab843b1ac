using System.Numerics.Tensors;
using Qllm.Tensors;

namespace Qllm.Training;

/// <summary>
/// Causal softmax attention for training, with grouped-query heads (query head h reads KV head h / (heads / kvHeads)):
/// S = Q·Kᵀ/√d with keys j ≤ i, P = softmax(S), O = P·V. The model's <see cref="Models.Layers.CausalAttention"/> is a
/// tiled online-softmax kernel that keeps no P; here each score row is formed explicitly and recomputed in the backward
/// (no T×T matrix is stored), which gives dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ = dS·K/√d, dK += dSᵀ·Q/√d.
/// </summary>
public static class AttentionBackward
{
    /// <summary>q and the output are [batch·seqLen, heads·headDim]; k and v are [batch·seqLen, kvHeads·headDim].</summary>
    public readonly record struct Shape(int Batch, int SeqLen, int NumHeads, int NumKvHeads, int HeadDim)
    {
        public int QDim => NumHeads * HeadDim;
        public int KvDim => NumKvHeads * HeadDim;
        public int GroupSize => NumHeads / NumKvHeads;
    }

    public static void Forward(float[] q, float[] k, float[] v, Shape s, float[] output)
    {
        // One task per (sequence, query head): tasks write disjoint output columns.
        Compute.For(s.Batch * s.NumHeads, s.Batch * s.NumHeads > 1, task =>
        {
            int b = task / s.NumHeads, h = task % s.NumHeads, kvHead = h / s.GroupSize, hd = s.HeadDim;
            var scores = new float[s.SeqLen];
            for (int i = 0; i < s.SeqLen; i++)
            {
                var row = scores.AsSpan(0, i + 1);
                Scores(q, k, s, b, h, kvHead, i, row);
                var o = output.AsSpan((b * s.SeqLen + i) * s.QDim + h * hd, hd);
                o.Clear();
                for (int j = 0; j <= i; j++)
                    TensorPrimitives.MultiplyAdd(v.AsSpan((b * s.SeqLen + j) * s.KvDim + kvHead * hd, hd), row[j], o, o);
            }
        });
    }

    /// <summary>Writes dq and dk, dv (all overwritten) from the output gradient; <paramref name="output"/> is the forward's O.</summary>
    public static void Backward(float[] q, float[] k, float[] v, float[] output, float[] outputGradient, Shape s,
        float[] queryGradient, float[] keyGradient, float[] valueGradient)
    {
        // One task per (sequence, KV head), which owns that head's dK, dV and its query heads' dQ.
        Compute.For(s.Batch * s.NumKvHeads, s.Batch * s.NumKvHeads > 1, task =>
        {
            int b = task / s.NumKvHeads, kvHead = task % s.NumKvHeads, hd = s.HeadDim;
            float scale = 1f / MathF.Sqrt(hd);
            for (int j = 0; j < s.SeqLen; j++)
            {
                keyGradient.AsSpan((b * s.SeqLen + j) * s.KvDim + kvHead * hd, hd).Clear();
                valueGradient.AsSpan((b * s.SeqLen + j) * s.KvDim + kvHead * hd, hd).Clear();
            }
            var p = new float[s.SeqLen];
            for (int h = kvHead * s.GroupSize; h < (kvHead + 1) * s.GroupSize; h++)
                for (int i = 0; i < s.SeqLen; i++)
                {
                    var row = p.AsSpan(0, i + 1);
                    Scores(q, k, s, b, h, kvHead, i, row);
                    int at = (b * s.SeqLen + i) * s.QDim + h * hd;
                    var dO = outputGradient.AsSpan(at, hd);
                    var dq = queryGradient.AsSpan(at, hd);
                    var qi = q.AsSpan(at, hd);
                    float rowDot = TensorPrimitives.Dot(dO, output.AsSpan(at, hd));
                    dq.Clear();
                    for (int j = 0; j <= i; j++)
                    {
                        int kvAt = (b * s.SeqLen + j) * s.KvDim + kvHead * hd;
                        var dv = valueGradient.AsSpan(kvAt, hd);
                        TensorPrimitives.MultiplyAdd(dO, row[j], dv, dv);
                        float dS = row[j] * (TensorPrimitives.Dot(dO, v.AsSpan(kvAt, hd)) - rowDot) * scale;
                        TensorPrimitives.MultiplyAdd(k.AsSpan(kvAt, hd), dS, dq, dq);
                        var dk = keyGradient.AsSpan(kvAt, hd);
                        TensorPrimitives.MultiplyAdd(qi, dS, dk, dk);
                    }
                }
        });
    }

    /// <summary>P row i of query head h: softmax over keys 0..i of q_i·k_j/√d (the model's <see cref="Elementwise.Softmax"/>).</summary>
    private static void Scores(float[] q, float[] k, Shape s, int b, int h, int kvHead, int i, Span<float> row)
    {
        int hd = s.HeadDim;
        float scale = 1f / MathF.Sqrt(hd);
        var qi = q.AsSpan((b * s.SeqLen + i) * s.QDim + h * hd, hd);
        for (int j = 0; j < row.Length; j++)
            row[j] = TensorPrimitives.Dot(qi, k.AsSpan((b * s.SeqLen + j) * s.KvDim + kvHead * hd, hd)) * scale;
        Elementwise.Softmax(row);
    }
}
