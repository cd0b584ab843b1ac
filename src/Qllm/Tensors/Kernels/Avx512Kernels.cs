using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// AVX-512 kernels. The GEMM tile is 8 rows × 32 columns: 16 zmm accumulators, two zmm loads of the packed
/// weight panel and 8 broadcasts of packed activations per k, i.e. 16 FMAs per 10 loads, enough independent
/// FMA chains to cover their latency (the register-blocking of Goto &amp; van de Geijn, 2008).
/// </summary>
internal static unsafe class Avx512Kernels
{
    /// <summary>
    /// C[8, 32] (+)= A[kc, 8]ᵀ · B[kc, 32]: A packed k-major (8 values per k); B rows <paramref name="ldb"/> floats
    /// apart (32 in a packed weight panel, the cache's stride for attention).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile8x32(float* a, float* b, int ldb, int kc, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default,
            c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += 8;
            b += ldb;
        }
        Store(c, ldc, 0, c00, c01, accumulate); Store(c, ldc, 1, c10, c11, accumulate);
        Store(c, ldc, 2, c20, c21, accumulate); Store(c, ldc, 3, c30, c31, accumulate);
        Store(c, ldc, 4, c40, c41, accumulate); Store(c, ldc, 5, c50, c51, accumulate);
        Store(c, ldc, 6, c60, c61, accumulate); Store(c, ldc, 7, c70, c71, accumulate);
    }

    /// <summary>
    /// <see cref="Tile8x32"/> with A read in place: row i, step p at a[i·rowStride + p·kStride]. Broadcasts load a
    /// single float from any address, so a row-major A (attention's probabilities) needs no transposing copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile8x32Strided(float* a, int rowStride, int kStride, float* b, int ldb, int kc, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default,
            c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        float* a0 = a, a1 = a + rowStride, a2 = a + 2 * rowStride, a3 = a + 3 * rowStride,
            a4 = a + 4 * rowStride, a5 = a + 5 * rowStride, a6 = a + 6 * rowStride, a7 = a + 7 * rowStride;
        for (int p = 0, at = 0; p < kc; p++, at += kStride, b += ldb)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a0[at]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[at]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[at]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[at]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[at]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[at]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[at]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[at]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        Store(c, ldc, 0, c00, c01, accumulate); Store(c, ldc, 1, c10, c11, accumulate);
        Store(c, ldc, 2, c20, c21, accumulate); Store(c, ldc, 3, c30, c31, accumulate);
        Store(c, ldc, 4, c40, c41, accumulate); Store(c, ldc, 5, c50, c51, accumulate);
        Store(c, ldc, 6, c60, c61, accumulate); Store(c, ldc, 7, c70, c71, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, int ldc, int row, Vector512<float> left, Vector512<float> right, bool accumulate)
    {
        float* p = c + (long)row * ldc;
        if (accumulate)
        {
            left += Vector512.Load(p);
            right += Vector512.Load(p + 16);
        }
        left.Store(p);
        right.Store(p + 16);
    }

    /// <summary>y[32] = Σ_k x[k] · panel[k, 0..31]: one output panel of a GEMV, streaming the panel once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv32(float* x, float* panel, int k, float* y)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2, panel += 64)
        {
            var x0 = Vector512.Create(x[p]);
            var x1 = Vector512.Create(x[p + 1]);
            a0 = Vector512.FusedMultiplyAdd(x0, Vector512.Load(panel), a0);
            a1 = Vector512.FusedMultiplyAdd(x0, Vector512.Load(panel + 16), a1);
            a2 = Vector512.FusedMultiplyAdd(x1, Vector512.Load(panel + 32), a2);
            a3 = Vector512.FusedMultiplyAdd(x1, Vector512.Load(panel + 48), a3);
        }
        if (p < k)
        {
            var x0 = Vector512.Create(x[p]);
            a0 = Vector512.FusedMultiplyAdd(x0, Vector512.Load(panel), a0);
            a1 = Vector512.FusedMultiplyAdd(x0, Vector512.Load(panel + 16), a1);
        }
        (a0 + a2).Store(y);
        (a1 + a3).Store(y + 16);
    }

    /// <summary>
    /// <see cref="Gemv32"/> over a bf16 panel: each 64-byte load holds the k-group's 32 values interleaved
    /// (row i beside row 16 + i), so shift and mask give the two fp32 halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv32Bf16(float* x, ushort* panel, int k, float* y)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2, panel += 64)
        {
            var x0 = Vector512.Create(x[p]);
            var x1 = Vector512.Create(x[p + 1]);
            var w0 = Vector512.Load((uint*)panel);
            var w1 = Vector512.Load((uint*)(panel + 32));
            a0 = Vector512.FusedMultiplyAdd(x0, Low(w0), a0);
            a1 = Vector512.FusedMultiplyAdd(x0, High(w0), a1);
            a2 = Vector512.FusedMultiplyAdd(x1, Low(w1), a2);
            a3 = Vector512.FusedMultiplyAdd(x1, High(w1), a3);
        }
        if (p < k)
        {
            var x0 = Vector512.Create(x[p]);
            var w0 = Vector512.Load((uint*)panel);
            a0 = Vector512.FusedMultiplyAdd(x0, Low(w0), a0);
            a1 = Vector512.FusedMultiplyAdd(x0, High(w0), a1);
        }
        (a0 + a2).Store(y);
        (a1 + a3).Store(y + 16);
    }

    /// <summary>Rows 0..15 of an interleaved bf16 k-group: the low 16 bits of each word, moved to the top.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Low(Vector512<uint> words) => Vector512.ShiftLeft(words, 16).AsSingle();

    /// <summary>Rows 16..31: the high 16 bits of each word, already in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> High(Vector512<uint> words) => (words & Vector512.Create(0xFFFF0000u)).AsSingle();

    /// <summary>Interleaved bf16 k-groups → fp32 panel rows, for count values (a multiple of 32).</summary>
    public static void WidenBf16(ushort* source, float* destination, int count)
    {
        for (int i = 0; i < count; i += 32)
        {
            var w = Vector512.Load((uint*)(source + i));
            Low(w).Store(destination + i);
            High(w).Store(destination + i + 16);
        }
    }
}
