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
