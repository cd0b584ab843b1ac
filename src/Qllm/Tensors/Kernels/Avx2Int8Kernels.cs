using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// The AVX2 int8 tile, for CPUs without AVX-512 VNNI. It widens both operands to int16 (vpmovzxbw for the unsigned
/// activations, vpmovsxbw for the signed weights) and multiplies with vpmaddwd, which adds adjacent int16 products
/// into int32: at most 2 · 255 · 128 = 65 280 per lane, far inside int32. vpmaddubsw would take the bytes as they
/// are, but it sums two u8 × s8 products into a saturating int16, and 2 · 255 · (−128) = −65 280 does not fit: the
/// results would be silently wrong at the extremes, so it is not used.
/// </summary>
internal static unsafe class Avx2Int8Kernels
{
    /// <summary>c[r·32 + j] = Σ_k a[r, k] · b[k, j] for r &lt; rows (layouts in <see cref="Int8Kernel"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(byte* a, sbyte* b, int k4, int rows, int* c)
    {
        for (int r = 0; r < rows; r++, c += 32)
        {
            // Lane pair (2i, 2i+1) of acc_q holds the two half sums of column 4q + i: k 0–1 and k 2–3 of each group.
            Vector256<int> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
            byte* ar = a + 4 * r;
            sbyte* bp = b;
            for (int p = 0; p < k4; p++, ar += 32, bp += 128)
            {
                // The row's 4 bytes repeated 4 times, widened: a0..a3 against each column's 4 weights.
                var x = Avx2.ConvertToVector256Int16(Vector128.Create(*(uint*)ar).AsByte());
                acc0 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(bp));
                acc1 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(bp + 16));
                acc2 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(bp + 32));
                acc3 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(bp + 48));
                acc4 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(bp + 64));
                acc5 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(bp + 80));
                acc6 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(bp + 96));
                acc7 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(bp + 112));
            }
            Columns(acc0, acc1).Store(c);
            Columns(acc2, acc3).Store(c + 8);
            Columns(acc4, acc5).Store(c + 16);
            Columns(acc6, acc7).Store(c + 24);
        }
    }

    /// <summary>
    /// Eight columns from two half-sum vectors: vphaddd adds the pairs, within each 128-bit lane, giving
    /// [c0 c1 c4 c5 | c2 c3 c6 c7]; the 64-bit permute (0, 2, 1, 3) puts them in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Columns(Vector256<int> low, Vector256<int> high) =>
        Avx2.Permute4x64(Avx2.HorizontalAdd(low, high).AsInt64(), 0b11_01_10_00).AsInt32();
}
