using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// Float64 dot products: the inner kernel of the Cholesky factorisation and the triangular inverse behind GPTQ's
/// H⁻¹. <see cref="Dot4"/> shares the loads of one operand across four dots, which is what lets the row-oriented
/// O(n³) loops run near the FMA rate instead of the load rate. AVX-512 gets an explicit 8-lane kernel; other
/// hardware falls back to <see cref="TensorPrimitives.Dot(ReadOnlySpan{double}, ReadOnlySpan{double})"/>.
/// </summary>
internal static class DoubleDot
{
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => TensorPrimitives.Dot(a, b[..a.Length]);

    /// <summary>The dots of <paramref name="a"/> with four rows b0..b3 at least as long.</summary>
    public static (double, double, double, double) Dot4(ReadOnlySpan<double> a, ReadOnlySpan<double> b0, ReadOnlySpan<double> b1,
        ReadOnlySpan<double> b2, ReadOnlySpan<double> b3)
    {
        int n = a.Length;
        if (b0.Length < n || b1.Length < n || b2.Length < n || b3.Length < n) throw new ArgumentException("Dot4 operands are shorter than the first.");
        if (!Vector512.IsHardwareAccelerated) return (Dot(a, b0), Dot(a, b1), Dot(a, b2), Dot(a, b3));
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double p0 = ref MemoryMarshal.GetReference(b0);
        ref double p1 = ref MemoryMarshal.GetReference(b1);
        ref double p2 = ref MemoryMarshal.GetReference(b2);
        ref double p3 = ref MemoryMarshal.GetReference(b3);
        Vector512<double> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            var va = Vector512.LoadUnsafe(ref pa, (nuint)i);
            s0 = Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref p0, (nuint)i), s0);
            s1 = Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref p1, (nuint)i), s1);
            s2 = Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref p2, (nuint)i), s2);
            s3 = Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref p3, (nuint)i), s3);
        }
        double r0 = Vector512.Sum(s0), r1 = Vector512.Sum(s1), r2 = Vector512.Sum(s2), r3 = Vector512.Sum(s3);
        for (; i < n; i++)
        {
            double x = Unsafe.Add(ref pa, i);
            r0 += x * Unsafe.Add(ref p0, i);
            r1 += x * Unsafe.Add(ref p1, i);
            r2 += x * Unsafe.Add(ref p2, i);
            r3 += x * Unsafe.Add(ref p3, i);
        }
        return (r0, r1, r2, r3);
    }
}
