using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Qllm.Tensors;

/// <summary>
/// Y[m, n] = Σ_k X[m, k] · W[n, k] (+ bias[n]): the product of a linear layer, with W in the
/// PyTorch <c>nn.Linear</c> layout [out_features, in_features] so that both operands are read
/// along contiguous rows. A register-blocked 4×4 dot-product kernel (Vector512 FMA where the CPU
/// has it, <see cref="Vector{T}"/> otherwise), cache-blocked over rows of X and W, and split over
/// threads by (row block, column chunk). This is the clean baseline; tuned kernels come later.
/// </summary>
public static unsafe class Gemm
{
    private const int RowBlock = 64;      // rows of X kept hot in L2 while a W chunk streams past
    private const int ColumnChunk = 64;   // rows of W per task: 64 × K floats stay in L2
    private const long ParallelThreshold = 1L << 17; // multiply-adds below which a fork costs more than it saves

    public static void MultiplyTransposed(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y,
        int m, int n, int k, ReadOnlySpan<float> bias = default)
    {
        if (x.Length < (long)m * k || w.Length < (long)n * k || y.Length < (long)m * n)
            throw new ArgumentException($"GEMM operand too small for m={m} n={n} k={k}.");
        if (!bias.IsEmpty && bias.Length < n) throw new ArgumentException("GEMM bias shorter than n.");
        if (m == 0 || n == 0) return;

        fixed (float* px = x, pw = w, py = y, pb = bias)
        {
            var job = new Job(px, pw, py, bias.IsEmpty ? null : pb, m, n, k);
            int rowBlocks = (m + RowBlock - 1) / RowBlock;
            int chunks = (n + ColumnChunk - 1) / ColumnChunk;
            bool parallel = (long)m * n * k >= ParallelThreshold;
            Compute.For(rowBlocks * chunks, parallel, task => job.Run(task / chunks, task % chunks));
        }
    }

    private readonly struct Job(float* x, float* w, float* y, float* bias, int m, int n, int k)
    {
        public void Run(int rowBlock, int chunk)
        {
            int m0 = rowBlock * RowBlock, m1 = Math.Min(m, m0 + RowBlock);
            int n0 = chunk * ColumnChunk, n1 = Math.Min(n, n0 + ColumnChunk);
            for (int j = n0; j < n1; j += 4)
            {
                int nb = Math.Min(4, n1 - j);
                int i = m0;
                if (nb == 4)
                    for (; i + 4 <= m1; i += 4) Tile4x4(i, j);
                for (; i < m1; i++)
                    for (int jj = j; jj < j + nb; jj++) Single(i, jj);
            }
        }

        private void Single(int i, int j)
        {
            float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(x + (long)i * k, k), new ReadOnlySpan<float>(w + (long)j * k, k));
            y[(long)i * n + j] = bias == null ? dot : dot + bias[j];
        }

        private void Tile4x4(int i, int j)
        {
            float* x0 = x + (long)i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
            float* w0 = w + (long)j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
            Span<float> sums = stackalloc float[16];
            int kk = Vector512.IsHardwareAccelerated
                ? Dot4x4Vector512(x0, x1, x2, x3, w0, w1, w2, w3, k, sums)
                : Dot4x4Vector(x0, x1, x2, x3, w0, w1, w2, w3, k, sums);
            float** xs = stackalloc float*[4] { x0, x1, x2, x3 };
            float** ws = stackalloc float*[4] { w0, w1, w2, w3 };
            for (int a = 0; a < 4; a++)
            {
                for (int b = 0; b < 4; b++)
                {
                    float s = sums[a * 4 + b];
                    for (int t = kk; t < k; t++) s += xs[a][t] * ws[b][t];
                    y[(long)(i + a) * n + j + b] = bias == null ? s : s + bias[j + b];
                }
            }
        }
    }

    /// <summary>16 dot products of 4 X rows with 4 W rows over the vector-aligned prefix of k; returns that prefix length.</summary>
    private static int Dot4x4Vector512(float* x0, float* x1, float* x2, float* x3,
        float* w0, float* w1, float* w2, float* w3, int k, Span<float> sums)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default,
            a10 = default, a11 = default, a12 = default, a13 = default,
            a20 = default, a21 = default, a22 = default, a23 = default,
            a30 = default, a31 = default, a32 = default, a33 = default;
        int t = 0;
        for (; t + 16 <= k; t += 16)
        {
            var v0 = Vector512.Load(x0 + t); var v1 = Vector512.Load(x1 + t);
            var v2 = Vector512.Load(x2 + t); var v3 = Vector512.Load(x3 + t);
            var u = Vector512.Load(w0 + t);
            a00 = Vector512.FusedMultiplyAdd(v0, u, a00); a10 = Vector512.FusedMultiplyAdd(v1, u, a10);
            a20 = Vector512.FusedMultiplyAdd(v2, u, a20); a30 = Vector512.FusedMultiplyAdd(v3, u, a30);
            u = Vector512.Load(w1 + t);
            a01 = Vector512.FusedMultiplyAdd(v0, u, a01); a11 = Vector512.FusedMultiplyAdd(v1, u, a11);
            a21 = Vector512.FusedMultiplyAdd(v2, u, a21); a31 = Vector512.FusedMultiplyAdd(v3, u, a31);
            u = Vector512.Load(w2 + t);
            a02 = Vector512.FusedMultiplyAdd(v0, u, a02); a12 = Vector512.FusedMultiplyAdd(v1, u, a12);
            a22 = Vector512.FusedMultiplyAdd(v2, u, a22); a32 = Vector512.FusedMultiplyAdd(v3, u, a32);
            u = Vector512.Load(w3 + t);
            a03 = Vector512.FusedMultiplyAdd(v0, u, a03); a13 = Vector512.FusedMultiplyAdd(v1, u, a13);
            a23 = Vector512.FusedMultiplyAdd(v2, u, a23); a33 = Vector512.FusedMultiplyAdd(v3, u, a33);
        }
        sums[0] = Vector512.Sum(a00); sums[1] = Vector512.Sum(a01); sums[2] = Vector512.Sum(a02); sums[3] = Vector512.Sum(a03);
        sums[4] = Vector512.Sum(a10); sums[5] = Vector512.Sum(a11); sums[6] = Vector512.Sum(a12); sums[7] = Vector512.Sum(a13);
        sums[8] = Vector512.Sum(a20); sums[9] = Vector512.Sum(a21); sums[10] = Vector512.Sum(a22); sums[11] = Vector512.Sum(a23);
        sums[12] = Vector512.Sum(a30); sums[13] = Vector512.Sum(a31); sums[14] = Vector512.Sum(a32); sums[15] = Vector512.Sum(a33);
        return t;
    }

    /// <summary>Portable fallback of <see cref="Dot4x4Vector512"/> on <see cref="Vector{T}"/>.</summary>
    private static int Dot4x4Vector(float* x0, float* x1, float* x2, float* x3,
        float* w0, float* w1, float* w2, float* w3, int k, Span<float> sums)
    {
        int width = Vector<float>.Count;
        Span<Vector<float>> acc = stackalloc Vector<float>[16];
        float** xs = stackalloc float*[4] { x0, x1, x2, x3 };
        float** ws = stackalloc float*[4] { w0, w1, w2, w3 };
        int t = 0;
        for (; t + width <= k; t += width)
            for (int a = 0; a < 4; a++)
            {
                var v = Vector.Load(xs[a] + t);
                for (int b = 0; b < 4; b++) acc[a * 4 + b] += v * Vector.Load(ws[b] + t);
            }
        for (int s = 0; s < 16; s++) sums[s] = Vector.Sum(acc[s]);
        return t;
    }
}
