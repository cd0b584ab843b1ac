using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// The two products of attention for one query (decode): scores over keys cached transposed, and the
/// probability-weighted sum of values cached by row. A query tile of 8 would leave 7 rows empty here, so these
/// vectorise over positions (scores) and over features (values) instead: 2·T·d multiply-adds, nothing wasted.
/// </summary>
internal static unsafe class SingleQueryKernels
{
    /// <summary>scores[j] = Σ_d q[d]·K[d, j] for j in [0, count), with K[d, j] at k[d·keyStride + j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(KernelPath path, float* q, float* k, int keyStride, int headDim, int count, float* scores)
    {
        int j = 0;
        if (path == KernelPath.Avx512 && Vector512.IsHardwareAccelerated)
        {
            // 64 positions at a time, features outermost: each key row is read as one sequential 256-byte run,
            // which the prefetcher follows (feature-innermost order would jump a whole row per load).
            for (; j + 64 <= count; j += 64)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int d = 0; d < headDim; d++)
                {
                    var weight = Vector512.Create(q[d]);
                    float* row = k + (long)d * keyStride + j;
                    a0 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row), a0);
                    a1 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row + 48), a3);
                }
                a0.Store(scores + j); a1.Store(scores + j + 16); a2.Store(scores + j + 32); a3.Store(scores + j + 48);
            }
            for (; j + 16 <= count; j += 16)
            {
                // Two accumulators over alternating features, so consecutive FMAs do not wait on each other.
                Vector512<float> even = default, odd = default;
                int d = 0;
                for (; d + 2 <= headDim; d += 2)
                {
                    even = Vector512.FusedMultiplyAdd(Vector512.Create(q[d]), Vector512.Load(k + (long)d * keyStride + j), even);
                    odd = Vector512.FusedMultiplyAdd(Vector512.Create(q[d + 1]), Vector512.Load(k + (long)(d + 1) * keyStride + j), odd);
                }
                if (d < headDim) even = Vector512.FusedMultiplyAdd(Vector512.Create(q[d]), Vector512.Load(k + (long)d * keyStride + j), even);
                (even + odd).Store(scores + j);
            }
        }
        if (path is KernelPath.Avx512 or KernelPath.Avx2 && Vector256.IsHardwareAccelerated)
            for (; j + 8 <= count; j += 8)
            {
                Vector256<float> even = default, odd = default;
                int d = 0;
                for (; d + 2 <= headDim; d += 2)
                {
                    even = Vector256.FusedMultiplyAdd(Vector256.Create(q[d]), Vector256.Load(k + (long)d * keyStride + j), even);
                    odd = Vector256.FusedMultiplyAdd(Vector256.Create(q[d + 1]), Vector256.Load(k + (long)(d + 1) * keyStride + j), odd);
                }
                if (d < headDim) even = Vector256.FusedMultiplyAdd(Vector256.Create(q[d]), Vector256.Load(k + (long)d * keyStride + j), even);
                (even + odd).Store(scores + j);
            }
        for (; j < count; j++)
        {
            float sum = 0;
            for (int d = 0; d < headDim; d++) sum += q[d] * k[(long)d * keyStride + j];
            scores[j] = sum;
        }
    }

    /// <summary>output[d] = Σ_j p[j]·V[j, d] for j in [0, count), with V[j, d] at v[j·valueStride + d].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightedValues(KernelPath path, float* p, float* v, int valueStride, int count, int headDim, float* output)
    {
        int d = 0;
        if (path == KernelPath.Avx512 && Vector512.IsHardwareAccelerated)
        {
            for (; d + 64 <= headDim; d += 64)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int j = 0; j < count; j++)
                {
                    var weight = Vector512.Create(p[j]);
                    float* row = v + (long)j * valueStride + d;
                    a0 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row), a0);
                    a1 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(row + 48), a3);
                }
                a0.Store(output + d); a1.Store(output + d + 16); a2.Store(output + d + 32); a3.Store(output + d + 48);
            }
            for (; d + 16 <= headDim; d += 16)
            {
                Vector512<float> a0 = default;
                for (int j = 0; j < count; j++)
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), Vector512.Load(v + (long)j * valueStride + d), a0);
                a0.Store(output + d);
            }
        }
        if (path is KernelPath.Avx512 or KernelPath.Avx2 && Vector256.IsHardwareAccelerated)
        {
            for (; d + 32 <= headDim; d += 32)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int j = 0; j < count; j++)
                {
                    var weight = Vector256.Create(p[j]);
                    float* row = v + (long)j * valueStride + d;
                    a0 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(row), a0);
                    a1 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(row + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(row + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(row + 24), a3);
                }
                a0.Store(output + d); a1.Store(output + d + 8); a2.Store(output + d + 16); a3.Store(output + d + 24);
            }
            for (; d + 8 <= headDim; d += 8)
            {
                Vector256<float> a0 = default;
                for (int j = 0; j < count; j++)
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(v + (long)j * valueStride + d), a0);
                a0.Store(output + d);
            }
        }
        for (; d < headDim; d++)
        {
            float sum = 0;
            for (int j = 0; j < count; j++) sum += p[j] * v[(long)j * valueStride + d];
            output[d] = sum;
        }
    }
}
