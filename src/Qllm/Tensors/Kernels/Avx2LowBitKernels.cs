using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qllm.Tensors.Kernels;

/// <summary>AVX2 low-bit kernels: a block's 32 words as four ymm loads of 8 rows each.</summary>
internal static unsafe class Avx2LowBitKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv32(float* x, float* groupSums, uint* codes, int* groupBlocks, int groups, int bits, float* scales, float* zeros, float* y)
    {
        int perWord = 32 / bits;
        var mask = Vector256.Create((1u << bits) - 1);
        Vector256<float> y0 = default, y1 = default, y2 = default, y3 = default;
        for (int g = 0; g < groups; g++, scales += 32, zeros += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int block = groupBlocks[g]; block < groupBlocks[g + 1]; block++, codes += 32, x += perWord)
            {
                var w0 = Vector256.Load(codes);
                var w1 = Vector256.Load(codes + 8);
                var w2 = Vector256.Load(codes + 16);
                var w3 = Vector256.Load(codes + 24);
                for (int s = 0; s < perWord; s++)
                {
                    var xs = Vector256.Create(x[s]);
                    a0 = Vector256.FusedMultiplyAdd(xs, Code(w0, mask), a0);
                    a1 = Vector256.FusedMultiplyAdd(xs, Code(w1, mask), a1);
                    a2 = Vector256.FusedMultiplyAdd(xs, Code(w2, mask), a2);
                    a3 = Vector256.FusedMultiplyAdd(xs, Code(w3, mask), a3);
                    w0 = Vector256.ShiftRightLogical(w0, bits);
                    w1 = Vector256.ShiftRightLogical(w1, bits);
                    w2 = Vector256.ShiftRightLogical(w2, bits);
                    w3 = Vector256.ShiftRightLogical(w3, bits);
                }
            }
            var sum = Vector256.Create(groupSums[g]);
            y0 = Apply(y0, a0, scales, zeros, sum);
            y1 = Apply(y1, a1, scales + 8, zeros + 8, sum);
            y2 = Apply(y2, a2, scales + 16, zeros + 16, sum);
            y3 = Apply(y3, a3, scales + 24, zeros + 24, sum);
        }
        y0.Store(y); y1.Store(y + 8); y2.Store(y + 16); y3.Store(y + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize(uint* codes, int blocks, int bits, float* scales, float* zeros, float* destination)
    {
        int perWord = 32 / bits;
        var mask = Vector256.Create((1u << bits) - 1);
        for (int block = 0; block < blocks; block++, codes += 32, destination += perWord * 32)
            for (int part = 0; part < 32; part += 8)
            {
                var words = Vector256.Load(codes + part);
                Vector256<float> scale = Vector256.Load(scales + part), zero = Vector256.Load(zeros + part);
                for (int s = 0; s < perWord; s++)
                {
                    (scale * (Code(words, mask) - zero)).Store(destination + s * 32 + part);
                    words = Vector256.ShiftRightLogical(words, bits);
                }
            }
    }

    /// <summary>y + scale ⊙ (acc − zero · Σx): one group's grid applied to its integer-weighted sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Apply(Vector256<float> y, Vector256<float> acc, float* scales, float* zeros, Vector256<float> sum) =>
        Vector256.FusedMultiplyAdd(Vector256.Load(scales), Vector256.FusedMultiplyAdd(-Vector256.Load(zeros), sum, acc), y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Code(Vector256<uint> words, Vector256<uint> mask) => Vector256.ConvertToSingle((words & mask).AsInt32());
}
