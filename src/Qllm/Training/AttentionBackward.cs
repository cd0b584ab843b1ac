using System.Numerics.Tensors;
using Qllm.Tensors;

namespace Qllm.Training;

/// <summary>
/// Causal softmax attention for training, with grouped-query heads (query head h reads KV head h / (heads / kvHeads)):
/// S = Q·Kᵀ/√d with keys j ≤ i, P = softmax(S), O = P·V. The model's <see cref="Models.Layers.CausalAttention"/> is a
/// tiled online-softmax kernel that keeps no P; here one head at a time forms its T×T matrices explicitly (recomputed
/// in the backward, so nothing T×T is kept between calls) and every product runs on the GEMM:
/// dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ = dS·K/√d, dK += dSᵀ·Q/√d.
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
        int t = s.SeqLen, hd = s.HeadDim;
        float[] qh = new float[t * hd], kh = new float[t * hd], vhT = new float[hd * t], p = new float[t * t], oh = new float[t * hd];
        for (int b = 0; b < s.Batch; b++)
            for (int h = 0; h < s.NumHeads; h++)
            {
                int kvHead = h / s.GroupSize;
                Gather(q, s.QDim, b, t, h * hd, hd, qh);
                Gather(k, s.KvDim, b, t, kvHead * hd, hd, kh);
                Gather(v, s.KvDim, b, t, kvHead * hd, hd, p.AsSpan(0, t * hd));
                Transpose.Into(p.AsSpan(0, t * hd), t, hd, vhT);
                Probabilities(qh, kh, t, hd, p);
                Gemm.MultiplyTransposed(p, vhT, oh, t, hd, t);   // O = P·V
                Scatter(oh, output, s.QDim, b, t, h * hd, hd);
            }
    }

    /// <summary>Writes dq and dk, dv (all overwritten) from the output gradient; <paramref name="output"/> is the forward's O.</summary>
    public static void Backward(float[] q, float[] k, float[] v, float[] output, float[] outputGradient, Shape s,
        float[] queryGradient, float[] keyGradient, float[] valueGradient)
    {
        int t = s.SeqLen, hd = s.HeadDim;
        float scale = 1f / MathF.Sqrt(hd);
        float[] qh = new float[t * hd], kh = new float[t * hd], vh = new float[t * hd], oh = new float[t * hd], dOh = new float[t * hd];
        float[] p = new float[t * t], dP = new float[t * t], transposed = new float[t * t], narrowT = new float[hd * t], dQh = new float[t * hd];
        float[] dKh = new float[t * hd], dVh = new float[t * hd], product = new float[t * hd];
        for (int b = 0; b < s.Batch; b++)
            for (int kvHead = 0; kvHead < s.NumKvHeads; kvHead++)
            {
                Gather(k, s.KvDim, b, t, kvHead * hd, hd, kh);
                Gather(v, s.KvDim, b, t, kvHead * hd, hd, vh);
                Array.Clear(dKh);
                Array.Clear(dVh);
                for (int h = kvHead * s.GroupSize; h < (kvHead + 1) * s.GroupSize; h++)
                {
                    Gather(q, s.QDim, b, t, h * hd, hd, qh);
                    Gather(output, s.QDim, b, t, h * hd, hd, oh);
                    Gather(outputGradient, s.QDim, b, t, h * hd, hd, dOh);
                    Probabilities(qh, kh, t, hd, p);

                    Transpose.Into(p, t, t, transposed);                       // dV += Pᵀ·dO
                    Transpose.Into(dOh, t, hd, narrowT);
                    Gemm.MultiplyTransposed(transposed, narrowT, product, t, hd, t);
                    TensorPrimitives.Add(dVh, product, dVh);

                    Gemm.MultiplyTransposed(dOh, vh, dP, t, t, hd);           // dP = dO·Vᵀ
                    for (int i = 0; i < t; i++)                               // dS = P ⊙ (dP − dO·O) / √d, in dP
                    {
                        float rowDot = TensorPrimitives.Dot(dOh.AsSpan(i * hd, hd), oh.AsSpan(i * hd, hd));
                        var dSRow = dP.AsSpan(i * t, t);
                        TensorPrimitives.Subtract(dSRow, rowDot, dSRow);
                        TensorPrimitives.Multiply(dSRow, p.AsSpan(i * t, t), dSRow);
                        TensorPrimitives.Multiply(dSRow, scale, dSRow);
                    }
                    Transpose.Into(kh, t, hd, narrowT);                        // dQ = dS·K
                    Gemm.MultiplyTransposed(dP, narrowT, dQh, t, hd, t);
                    Scatter(dQh, queryGradient, s.QDim, b, t, h * hd, hd);

                    Transpose.Into(dP, t, t, transposed);                      // dK += dSᵀ·Q
                    Transpose.Into(qh, t, hd, narrowT);
                    Gemm.MultiplyTransposed(transposed, narrowT, product, t, hd, t);
                    TensorPrimitives.Add(dKh, product, dKh);
                }
                Scatter(dKh, keyGradient, s.KvDim, b, t, kvHead * hd, hd);
                Scatter(dVh, valueGradient, s.KvDim, b, t, kvHead * hd, hd);
            }
    }

    /// <summary>P [t, t] = causal softmax(Q·Kᵀ/√d), rows through the model's <see cref="Elementwise.Softmax"/>; masked entries are 0.</summary>
    private static void Probabilities(float[] qh, float[] kh, int t, int hd, float[] p)
    {
        Gemm.MultiplyTransposed(qh, kh, p, t, t, hd);
        float scale = 1f / MathF.Sqrt(hd);
        for (int i = 0; i < t; i++)
        {
            var row = p.AsSpan(i * t, i + 1);
            TensorPrimitives.Multiply(row, scale, row);
            Elementwise.Softmax(row);
            p.AsSpan(i * t + i + 1, t - i - 1).Clear();
        }
    }

    /// <summary>One head's columns [offset, offset + hd) of sequence b's rows, as a dense [t, hd] matrix.</summary>
    private static void Gather(float[] source, int stride, int b, int t, int offset, int hd, Span<float> head)
    {
        for (int i = 0; i < t; i++) source.AsSpan((b * t + i) * stride + offset, hd).CopyTo(head.Slice(i * hd, hd));
    }

    private static void Scatter(float[] head, float[] target, int stride, int b, int t, int offset, int hd)
    {
        for (int i = 0; i < t; i++) head.AsSpan(i * hd, hd).CopyTo(target.AsSpan((b * t + i) * stride + offset, hd));
    }
}
