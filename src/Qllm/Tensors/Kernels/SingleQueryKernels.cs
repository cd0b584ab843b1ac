using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// The two products of attention for one query (decode), over keys and values cached by row (position-major):
/// the scores are one dot product per position, each key row read once in order; the output is the
/// probability-weighted sum of the value rows. A query tile of 8 would leave 7 rows empty here, so neither uses
/// the GEMM micro-kernel: 2·T·d multiply-adds, nothing wasted.
/// </summary>
internal static unsafe class SingleQueryKernels
{
    /// <summary>How many positions ahead <see cref="Scores"/> asks for keys (8 KB at a head of 64).</summary>
    private const int KeysAhead = 32;

    /// <summary>
    /// scores[j] = Σ_d q[d]·K[j, d] for j in [0, count), with K[j, d] at k[j·keyStride + d]. On the AVX-512 path it
    /// also asks L2 for the value rows V[j] (at v[j·valueStride]) of the positions it scores, which the weighted sum
    /// reads next.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(KernelPath path, float* q, float* k, int keyStride, int headDim, int count, float* scores,
        float* v, int valueStride)
    {
        int j = 0;
        if (path == KernelPath.Avx512 && Vector512.IsHardwareAccelerated && headDim % 16 == 0)
        {
            // Four positions at a time: four independent FMA chains, and the horizontal sums overlap.
            for (; j + 4 <= count; j += 4)
            {
                float* row = k + (long)j * keyStride;
                // In decode the weights stream evicts the cache between layers, so keys and values come from DRAM,
                // and demand loads alone keep too few lines in flight (the hardware prefetcher stops at each 4 KB
                // page). Ask L2 for the keys KeysAhead positions ahead and for these positions' values. Prefetches
                // never fault, so running past the cache's end is harmless. W4 110M decode, in turns: attention 0.36
                // → 0.33 ms a token at 16 ahead; then 32 ran 2.6–2.7% faster than 16 (medians of 11 and 15 rounds),
                // once each thread's key streams started at once (CausalAttention), and 64 only 1.1%.
                for (int t = 0; t < 4; t++)
                {
                    byte* ahead = (byte*)(row + (long)(KeysAhead + t) * keyStride), values = (byte*)(v + (long)(j + t) * valueStride);
                    for (int b = 0; b < headDim * sizeof(float); b += 64)
                    {
                        Sse.Prefetch2(ahead + b);
                        Sse.Prefetch2(values + b);
                    }
                }
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int d = 0; d < headDim; d += 16)
                {
                    var query = Vector512.Load(q + d);
                    a0 = Vector512.FusedMultiplyAdd(query, Vector512.Load(row + d), a0);
                    a1 = Vector512.FusedMultiplyAdd(query, Vector512.Load(row + keyStride + d), a1);
                    a2 = Vector512.FusedMultiplyAdd(query, Vector512.Load(row + 2 * keyStride + d), a2);
                    a3 = Vector512.FusedMultiplyAdd(query, Vector512.Load(row + 3 * keyStride + d), a3);
                }
                scores[j] = Vector512.Sum(a0);
                scores[j + 1] = Vector512.Sum(a1);
                scores[j + 2] = Vector512.Sum(a2);
                scores[j + 3] = Vector512.Sum(a3);
            }
            for (; j < count; j++)
            {
                float* row = k + (long)j * keyStride;
                Vector512<float> a = default;
                for (int d = 0; d < headDim; d += 16) a = Vector512.FusedMultiplyAdd(Vector512.Load(q + d), Vector512.Load(row + d), a);
                scores[j] = Vector512.Sum(a);
            }
            return;
        }
        for (; j < count; j++)
            scores[j] = TensorPrimitives.Dot(new ReadOnlySpan<float>(q, headDim), new ReadOnlySpan<float>(k + (long)j * keyStride, headDim));
    }

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
