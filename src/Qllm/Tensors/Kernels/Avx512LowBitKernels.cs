using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// AVX-512 low-bit kernels. A block's two zmm loads hold 32 rows × perWord k-steps of codes. Decode turns
/// memory-bound fp32 into compute-bound integer unpacking, so the GEMV spends as few vector operations per code as
/// it can: two (a rotate and a ternary-logic OR) and the FMA, with no int→float conversion (see <see cref="Magic"/>).
/// </summary>
internal static unsafe class Avx512LowBitKernels
{
    /// <summary>
    /// The float whose bits are 0x3F800000 | code · 2^(23 − bits): 1 + code · 2^(−bits), exact for codes of up to 8
    /// bits. One rotate brings code s of each word to the top of the mantissa and one ternary-logic op masks it and
    /// ORs in the exponent of 1.0, so a code becomes a float in two integer operations instead of a mask and a
    /// conversion (Zen 4 runs the conversion on the FMA pipes; the integer ops go to any pipe).
    /// Σ x·(1 + q·2^−b) = Σx + 2^−b · Σ q·x, so a group's Σ q·x is 2^b · acc − 2^b · Σx, and with its zero point
    /// Σ (q − z)·x = 2^b · acc − (2^b + z) · Σx: the group sums the GEMV already needs for the zero absorb the offset.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Magic(Vector512<uint> words, Vector512<uint> rotation, Vector512<uint> mask) =>
        Avx512F.TernaryLogic(Avx512F.RotateLeftVariable(words, rotation), mask, One, 0xEA).AsSingle(); // (a & b) | c

    private static Vector512<uint> One => Vector512.Create(0x3F800000u);

    /// <summary>Per code position s, the left rotation that moves bits [bits·s, bits·s + bits) to [23 − bits, 23).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rotations(Vector512<uint>* rotations, int bits, int perWord)
    {
        for (int s = 0; s < perWord; s++) rotations[s] = Vector512.Create((uint)((23 - bits - bits * s) & 31));
    }

    /// <summary>One group's contribution scale ⊙ (2^b · acc − (2^b + zero) · Σx), see <see cref="Magic"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Apply(Vector512<float> y, Vector512<float> acc, float* scales, float* zeros, Vector512<float> sum, Vector512<float> levels) =>
        Vector512.FusedMultiplyAdd(Vector512.Load(scales), Vector512.FusedMultiplyAdd(-(Vector512.Load(zeros) + levels), sum, acc * levels), y);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv32(float* x, float* groupSums, uint* codes, int* groupBlocks, int groups, int bits, float* scales, float* zeros, float* y)
    {
        if (bits == 4)
        {
            Gemv32Bits4(x, groupSums, codes, groupBlocks, groups, scales, zeros, y);
            return;
        }
        int perWord = 32 / bits;
        var rotations = stackalloc Vector512<uint>[perWord];
        Rotations(rotations, bits, perWord);
        var mask = Vector512.Create(((1u << bits) - 1) << (23 - bits));
        var levels = Vector512.Create((float)(1 << bits));
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
                    a0 = Vector512.FusedMultiplyAdd(x0, Magic(low, rotations[s], mask), a0);
                    a1 = Vector512.FusedMultiplyAdd(x0, Magic(high, rotations[s], mask), a1);
                    var x1 = Vector512.Create(x[s + 1]);
                    a2 = Vector512.FusedMultiplyAdd(x1, Magic(low, rotations[s + 1], mask), a2);
                    a3 = Vector512.FusedMultiplyAdd(x1, Magic(high, rotations[s + 1], mask), a3);
                }
                if (s < perWord)
                {
                    var x0 = Vector512.Create(x[s]);
                    a0 = Vector512.FusedMultiplyAdd(x0, Magic(low, rotations[s], mask), a0);
                    a1 = Vector512.FusedMultiplyAdd(x0, Magic(high, rotations[s], mask), a1);
                }
            }
            var sum = Vector512.Create(groupSums[g]);
            y0 = Apply(y0, a0 + a2, scales, zeros, sum, levels);
            y1 = Apply(y1, a1 + a3, scales + 16, zeros + 16, sum, levels);
        }
        y0.Store(y);
        y1.Store(y + 16);
    }

    /// <summary>
    /// <see cref="Gemv32"/> for 4-bit codes, the common case, unrolled over the word's 8 codes so every rotation is
    /// an immediate: code s sits at bits [4s, 4s + 4) and moves to [19, 23) by a left rotation of (19 − 4s) mod 32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gemv32Bits4(float* x, float* groupSums, uint* codes, int* groupBlocks, int groups, float* scales, float* zeros, float* y)
    {
        var mask = Vector512.Create(15u << 19);
        var one = One;
        var levels = Vector512.Create(16f);
        Vector512<float> y0 = default, y1 = default;
        for (int g = 0; g < groups; g++, scales += 32, zeros += 32)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int block = groupBlocks[g]; block < groupBlocks[g + 1]; block++, codes += 32, x += 8)
            {
                var low = Vector512.Load(codes);
                var high = Vector512.Load(codes + 16);
                // Even and odd k-steps feed separate accumulator pairs so consecutive FMAs do not wait on each other.
                Step4(low, high, x[0], 19, mask, one, ref a0, ref a1);
                Step4(low, high, x[1], 15, mask, one, ref a2, ref a3);
                Step4(low, high, x[2], 11, mask, one, ref a0, ref a1);
                Step4(low, high, x[3], 7, mask, one, ref a2, ref a3);
                Step4(low, high, x[4], 3, mask, one, ref a0, ref a1);
                Step4(low, high, x[5], 31, mask, one, ref a2, ref a3);
                Step4(low, high, x[6], 27, mask, one, ref a0, ref a1);
                Step4(low, high, x[7], 23, mask, one, ref a2, ref a3);
            }
            var sum = Vector512.Create(groupSums[g]);
            y0 = Apply(y0, a0 + a2, scales, zeros, sum, levels);
            y1 = Apply(y1, a1 + a3, scales + 16, zeros + 16, sum, levels);
        }
        y0.Store(y);
        y1.Store(y + 16);
    }

    /// <summary>One k-step of 4-bit codes for the panel's 32 rows; <paramref name="rotation"/> is a constant once inlined, so an immediate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step4(Vector512<uint> low, Vector512<uint> high, float x, [ConstantExpected] byte rotation, Vector512<uint> mask, Vector512<uint> one,
        ref Vector512<float> accumulatorLow, ref Vector512<float> accumulatorHigh)
    {
        var v = Vector512.Create(x);
        accumulatorLow = Vector512.FusedMultiplyAdd(v, Avx512F.TernaryLogic(Avx512F.RotateLeft(low, rotation), mask, one, 0xEA).AsSingle(), accumulatorLow);
        accumulatorHigh = Vector512.FusedMultiplyAdd(v, Avx512F.TernaryLogic(Avx512F.RotateLeft(high, rotation), mask, one, 0xEA).AsSingle(), accumulatorHigh);
    }

    /// <summary>
    /// <see cref="Gemv32"/> for 2 or 3 rows: each code vector is unpacked once and multiplied into every row, so a
    /// k-step costs 2 unpacks for all rows instead of per row. With 2 rows, row 1 is computed twice (its second
    /// copy discarded), which keeps one loop body.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv32Rows(float* x, int xStride, float* groupSums, int rows, uint* codes, int* groupBlocks, int groups, int bits, float* scales, float* zeros, float* y)
    {
        int perWord = 32 / bits;
        var rotations = stackalloc Vector512<uint>[perWord];
        Rotations(rotations, bits, perWord);
        var mask = Vector512.Create(((1u << bits) - 1) << (23 - bits));
        var levels = Vector512.Create((float)(1 << bits));
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
                    var c0 = Magic(low, rotations[s], mask);
                    var c1 = Magic(high, rotations[s], mask);
                    var v = Vector512.Create(x0[s]); a00 = Vector512.FusedMultiplyAdd(v, c0, a00); a01 = Vector512.FusedMultiplyAdd(v, c1, a01);
                    v = Vector512.Create(x1[s]); a10 = Vector512.FusedMultiplyAdd(v, c0, a10); a11 = Vector512.FusedMultiplyAdd(v, c1, a11);
                    v = Vector512.Create(x2[s]); a20 = Vector512.FusedMultiplyAdd(v, c0, a20); a21 = Vector512.FusedMultiplyAdd(v, c1, a21);
                }
            }
            var sum = Vector512.Create(sums0[g]);
            y00 = Apply(y00, a00, scales, zeros, sum, levels);
            y01 = Apply(y01, a01, scales + 16, zeros + 16, sum, levels);
            sum = Vector512.Create(sums1[g]);
            y10 = Apply(y10, a10, scales, zeros, sum, levels);
            y11 = Apply(y11, a11, scales + 16, zeros + 16, sum, levels);
            sum = Vector512.Create(sums2[g]);
            y20 = Apply(y20, a20, scales, zeros, sum, levels);
            y21 = Apply(y21, a21, scales + 16, zeros + 16, sum, levels);
        }
        y00.Store(y); y01.Store(y + 16);
        y10.Store(y + 32); y11.Store(y + 48);
        if (rows > 2) { y20.Store(y + 64); y21.Store(y + 80); }
    }

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
