using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// AVX2 kernels over the same packed layout. With 16 ymm registers the 8×32 tile is done as four
/// 4-row × 16-column sub-tiles of 8 accumulators each.
/// </summary>
internal static unsafe class Avx2Kernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile8x32(float* a, float* b, int ldb, int kc, float* c, int ldc, bool accumulate)
    {
        for (int rowHalf = 0; rowHalf < 8; rowHalf += 4)
            for (int colHalf = 0; colHalf < 32; colHalf += 16)
                Tile4x16(a + rowHalf, b + colHalf, ldb, kc, c + (long)rowHalf * ldc + colHalf, ldc, accumulate);
    }

    private static void Tile4x16(float* a, float* b, int ldb, int kc, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++, a += 8, b += ldb)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
        }
        Store(c, 0, c00, c01); Store(c + ldc, 0, c10, c11); Store(c + 2L * ldc, 0, c20, c21); Store(c + 3L * ldc, 0, c30, c31);

        void Store(float* p, int _, Vector256<float> left, Vector256<float> right)
        {
            if (accumulate) { left += Vector256.Load(p); right += Vector256.Load(p + 8); }
            left.Store(p);
            right.Store(p + 8);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv32(float* x, float* panel, int k, float* y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int p = 0; p < k; p++, panel += 32)
        {
            var xp = Vector256.Create(x[p]);
            a0 = Vector256.FusedMultiplyAdd(xp, Vector256.Load(panel), a0);
            a1 = Vector256.FusedMultiplyAdd(xp, Vector256.Load(panel + 8), a1);
            a2 = Vector256.FusedMultiplyAdd(xp, Vector256.Load(panel + 16), a2);
            a3 = Vector256.FusedMultiplyAdd(xp, Vector256.Load(panel + 24), a3);
        }
        a0.Store(y); a1.Store(y + 8); a2.Store(y + 16); a3.Store(y + 24);
    }

    /// <summary>Interleaved bf16 panel (see <see cref="PackedMatrix"/>): the first 32 bytes hold rows 0..7 and 16..23, the next rows 8..15 and 24..31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv32Bf16(float* x, ushort* panel, int k, float* y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var mask = Vector256.Create(0xFFFF0000u);
        for (int p = 0; p < k; p++, panel += 32)
        {
            var xp = Vector256.Create(x[p]);
            var first = Vector256.Load((uint*)panel);
            var second = Vector256.Load((uint*)(panel + 16));
            a0 = Vector256.FusedMultiplyAdd(xp, Vector256.ShiftLeft(first, 16).AsSingle(), a0);   // rows 0..7
            a2 = Vector256.FusedMultiplyAdd(xp, (first & mask).AsSingle(), a2);                    // rows 16..23
            a1 = Vector256.FusedMultiplyAdd(xp, Vector256.ShiftLeft(second, 16).AsSingle(), a1);  // rows 8..15
            a3 = Vector256.FusedMultiplyAdd(xp, (second & mask).AsSingle(), a3);                   // rows 24..31
        }
        a0.Store(y); a1.Store(y + 8); a2.Store(y + 16); a3.Store(y + 24);
    }
}
