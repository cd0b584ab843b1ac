using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// AVX-512 low-bit kernels. A block's two zmm loads hold 32 rows × perWord k-steps of codes; in the GEMV each
/// k-step costs a mask and an unsigned int→float conversion per 16 rows before its FMA (three vector operations
/// where fp32 needs one), but reads 8× fewer bytes at 4 bits: decode turns from memory-bound into compute-bound.
/// </summary>
internal static unsafe class Avx512LowBitKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv32(float* x, float* groupSums, uint* codes, int* groupBlocks, int groups, int bits, float* scales, float* zeros, float* y)
    {
        int perWord = 32 / bits;
        // Code s stays in place: w & (mask << bits·s) is code·2^(bits·s), converted exactly by the unsigned
        // conversion (at most 8 significant bits), and x was pre-scaled by 2^(−bits·s). No shift per k-step.
        var masks = stackalloc Vector512<uint>[perWord];
        for (int s = 0; s < perWord; s++) masks[s] = Vector512.Create(((1u << bits) - 1) << (bits * s));
        Vector512<float> y0 = default, y1 = default;
        for (int g = 0; g < groups; g++, scales += 32, zeros += 32)
        {
            // Two accumulator pairs (even and odd k-steps) so consecutive FMAs do not wait on each other.
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int block = groupBlocks[g]; block < groupBlocks[g + 1]; block++, codes += 32, x += perWord)
            {
                var low = Vector512.Load(codes);
                var high = Vector512.Load(codes + 16);
                int s = 0;
                for (; s + 2 <= perWord; s += 2)
                {
                    var x0 = Vector512.Create(x[s]);
                    a0 = Vector512.FusedMultiplyAdd(x0, Scaled(low, masks[s]), a0);
                    a1 = Vector512.FusedMultiplyAdd(x0, Scaled(high, masks[s]), a1);
                    var x1 = Vector512.Create(x[s + 1]);
                    a2 = Vector512.FusedMultiplyAdd(x1, Scaled(low, masks[s + 1]), a2);
                    a3 = Vector512.FusedMultiplyAdd(x1, Scaled(high, masks[s + 1]), a3);
                }
                if (s < perWord)
                {
                    var x0 = Vector512.Create(x[s]);
                    a0 = Vector512.FusedMultiplyAdd(x0, Scaled(low, masks[s]), a0);
                    a1 = Vector512.FusedMultiplyAdd(x0, Scaled(high, masks[s]), a1);
                }
            }
            var sum = Vector512.Create(groupSums[g]);
            y0 = Vector512.FusedMultiplyAdd(Vector512.Load(scales), Vector512.FusedMultiplyAdd(-Vector512.Load(zeros), sum, a0 + a2), y0);
            y1 = Vector512.FusedMultiplyAdd(Vector512.Load(scales + 16), Vector512.FusedMultiplyAdd(-Vector512.Load(zeros + 16), sum, a1 + a3), y1);
        }
        y0.Store(y);
        y1.Store(y + 16);
    }

    /// <summary>
    /// <see cref="Gemv32"/> for 2 or 3 rows: each code vector is extracted once and multiplied into every row, so a
    /// k-step costs 2 masks and 2 conversions for all rows instead of per row. With 2 rows, row 1 is computed twice
    /// (its second copy discarded), which keeps one loop body.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv32Rows(float* x, int xStride, float* groupSums, int rows, uint* codes, int* groupBlocks, int groups, int bits, float* scales, float* zeros, float* y)
    {
        int perWord = 32 / bits;
        var masks = stackalloc Vector512<uint>[perWord];
        for (int s = 0; s < perWord; s++) masks[s] = Vector512.Create(((1u << bits) - 1) << (bits * s));
        float* x0 = x, x1 = x + xStride, x2 = rows > 2 ? x1 + xStride : x1;
        float* sums0 = groupSums, sums1 = groupSums + groups, sums2 = rows > 2 ? sums1 + groups : sums1;
        Vector512<float> y00 = default, y01 = default, y10 = default, y11 = default, y20 = default, y21 = default;
        for (int g = 0; g < groups; g++, scales += 32, zeros += 32)
        {
            Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
            for (int block = groupBlocks[g]; block < groupBlocks[g + 1]; block++, codes += 32, x0 += perWord, x1 += perWord, x2 += perWord)
            {
                var low = Vector512.Load(codes);
                var high = Vector512.Load(codes + 16);
                for (int s = 0; s < perWord; s++)
                {
                    var c0 = Scaled(low, masks[s]);
                    var c1 = Scaled(high, masks[s]);
                    var v = Vector512.Create(x0[s]); a00 = Vector512.FusedMultiplyAdd(v, c0, a00); a01 = Vector512.FusedMultiplyAdd(v, c1, a01);
                    v = Vector512.Create(x1[s]); a10 = Vector512.FusedMultiplyAdd(v, c0, a10); a11 = Vector512.FusedMultiplyAdd(v, c1, a11);
                    v = Vector512.Create(x2[s]); a20 = Vector512.FusedMultiplyAdd(v, c0, a20); a21 = Vector512.FusedMultiplyAdd(v, c1, a21);
                }
            }
            Vector512<float> s0 = Vector512.Load(scales), s1 = Vector512.Load(scales + 16), z0 = -Vector512.Load(zeros), z1 = -Vector512.Load(zeros + 16);
            var sum = Vector512.Create(sums0[g]);
            y00 = Vector512.FusedMultiplyAdd(s0, Vector512.FusedMultiplyAdd(z0, sum, a00), y00);
            y01 = Vector512.FusedMultiplyAdd(s1, Vector512.FusedMultiplyAdd(z1, sum, a01), y01);
            sum = Vector512.Create(sums1[g]);
            y10 = Vector512.FusedMultiplyAdd(s0, Vector512.FusedMultiplyAdd(z0, sum, a10), y10);
            y11 = Vector512.FusedMultiplyAdd(s1, Vector512.FusedMultiplyAdd(z1, sum, a11), y11);
            sum = Vector512.Create(sums2[g]);
            y20 = Vector512.FusedMultiplyAdd(s0, Vector512.FusedMultiplyAdd(z0, sum, a20), y20);
            y21 = Vector512.FusedMultiplyAdd(s1, Vector512.FusedMultiplyAdd(z1, sum, a21), y21);
        }
        y00.Store(y); y01.Store(y + 16);
        y10.Store(y + 32); y11.Store(y + 48);
        if (rows > 2) { y20.Store(y + 64); y21.Store(y + 80); }
    }

    /// <summary>One code of each word, left in place: code · 2^(its shift), as a float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scaled(Vector512<uint> words, Vector512<uint> mask) => Vector512.ConvertToSingle(words & mask);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize(uint* codes, int blocks, int bits, float* scales, float* zeros, float* destination)
    {
        int perWord = 32 / bits;
        var mask = Vector512.Create((1u << bits) - 1);
        Vector512<float> s0 = Vector512.Load(scales), s1 = Vector512.Load(scales + 16), z0 = Vector512.Load(zeros), z1 = Vector512.Load(zeros + 16);
        for (int block = 0; block < blocks; block++, codes += 32)
        {
            var low = Vector512.Load(codes);
            var high = Vector512.Load(codes + 16);
            for (int s = 0; s < perWord; s++, destination += 32)
            {
                (s0 * (Code(low, mask) - z0)).Store(destination);
                (s1 * (Code(high, mask) - z1)).Store(destination + 16);
                low = Vector512.ShiftRightLogical(low, bits);
                high = Vector512.ShiftRightLogical(high, bits);
            }
        }
    }

    /// <summary>The lowest code of each word as a float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Code(Vector512<uint> words, Vector512<uint> mask) => Vector512.ConvertToSingle((words & mask).AsInt32());
}
