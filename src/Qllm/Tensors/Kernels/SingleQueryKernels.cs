using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// The two products of attention for one query (decode), both a weighted sum of rows: scores over keys cached
/// transposed (the rows are features, weighted by the query), and the probability-weighted sum of values cached by
/// row (the rows are positions). A query tile of 8 would leave 7 rows empty here, so this vectorises along the rows
/// instead: 2·T·d multiply-adds, nothing wasted.
/// </summary>
internal static unsafe class SingleQueryKernels
{
    /// <summary>
    /// scores[j] = Σ_d q[d]·K[d, j] for j in [0, count), with K[d, j] at k[d·keyStride + j]. Positions up to
    /// <paramref name="readable"/> (≥ count) may be read and scored too (the cache's zero padding, see IKvCacheLayer):
    /// rounding the width up to whole vectors leaves no scalar tail, which would cost one strided pass per position.
    /// </summary>
    public static void Scores(KernelPath path, float* q, float* k, int keyStride, int headDim, int count, int readable, float* scores) =>
        WeightedRows(path, q, headDim, k, keyStride, Math.Min((count + 15) & ~15, Math.Max(count, readable)), scores);

    /// <summary>output[d] = Σ_j p[j]·V[j, d] for j in [0, count), with V[j, d] at v[j·valueStride + d].</summary>
    public static void WeightedValues(KernelPath path, float* p, float* v, int valueStride, int count, int headDim, float* output) =>
        WeightedRows(path, p, count, v, valueStride, headDim, output);

    /// <summary>
    /// output[i] = Σ_t weights[t]·matrix[t·stride + i] for i in [0, width): rows outermost, so each row is read as one
    /// sequential run, which the prefetcher follows (row-innermost order would jump a whole stride per load).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedRows(KernelPath path, float* weights, int rows, float* matrix, int stride, int width, float* output)
    {
        int i = 0;
        if (path == KernelPath.Avx512 && Vector512.IsHardwareAccelerated)
        {
            for (; i + 64 <= width; i += 64)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int t = 0; t < rows; t++)
                {
                    var weight = Vector512.Create(weights[t]);
                    float* row = matrix + (long)t * stride + i;
                    a0 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row), a0);
                    a1 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row + 48), a3);
                }
                a0.Store(output + i); a1.Store(output + i + 16); a2.Store(output + i + 32); a3.Store(output + i + 48);
            }
            for (; i + 16 <= width; i += 16)
            {
                // Two accumulators over alternating rows, so consecutive FMAs do not wait on each other.
                Vector512<float> even = default, odd = default;
                int t = 0;
                for (; t + 2 <= rows; t += 2)
                {
                    even = Vector512.FusedMultiplyAdd(Vector512.Create(weights[t]), Vector512.Load(matrix + (long)t * stride + i), even);
                    odd = Vector512.FusedMultiplyAdd(Vector512.Create(weights[t + 1]), Vector512.Load(matrix + (long)(t + 1) * stride + i), odd);
                }
                if (t < rows) even = Vector512.FusedMultiplyAdd(Vector512.Create(weights[t]), Vector512.Load(matrix + (long)t * stride + i), even);
                (even + odd).Store(output + i);
            }
        }
        if (path is KernelPath.Avx512 or KernelPath.Avx2 && Vector256.IsHardwareAccelerated)
        {
            for (; i + 32 <= width; i += 32)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int t = 0; t < rows; t++)
                {
                    var weight = Vector256.Create(weights[t]);
                    float* row = matrix + (long)t * stride + i;
                    a0 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(row), a0);
                    a1 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(row + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(row + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(row + 24), a3);
                }
                a0.Store(output + i); a1.Store(output + i + 8); a2.Store(output + i + 16); a3.Store(output + i + 24);
            }
            for (; i + 8 <= width; i += 8)
            {
                Vector256<float> even = default, odd = default;
                int t = 0;
                for (; t + 2 <= rows; t += 2)
                {
                    even = Vector256.FusedMultiplyAdd(Vector256.Create(weights[t]), Vector256.Load(matrix + (long)t * stride + i), even);
                    odd = Vector256.FusedMultiplyAdd(Vector256.Create(weights[t + 1]), Vector256.Load(matrix + (long)(t + 1) * stride + i), odd);
                }
                if (t < rows) even = Vector256.FusedMultiplyAdd(Vector256.Create(weights[t]), Vector256.Load(matrix + (long)t * stride + i), even);
                (even + odd).Store(output + i);
            }
        }
        for (; i < width; i++)
        {
            float sum = 0;
            for (int t = 0; t < rows; t++) sum += weights[t] * matrix[(long)t * stride + i];
            output[i] = sum;
        }
    }
}
