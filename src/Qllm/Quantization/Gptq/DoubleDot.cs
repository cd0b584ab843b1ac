using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// Vectorised float64 dot products: the inner kernel of the Cholesky factorisation and the triangular
/// inverse behind GPTQ's H⁻¹. <see cref="Dot4"/> shares the loads of one operand across four dots, which
/// is what makes the row-oriented O(n³) loops run near the core's FMA rate instead of its load rate.
/// </summary>
internal static class DoubleDot
{
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length, width = Vector<double>.Count, i = 0;
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pb = ref MemoryMarshal.GetReference(b);
        var acc = Vector<double>.Zero;
        for (; i <= n - width; i += width)
            acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref pa, (nuint)i), Vector.LoadUnsafe(ref pb, (nuint)i), acc);
        double sum = Vector.Sum(acc);
        for (; i < n; i++) sum += Unsafe.Add(ref pa, i) * Unsafe.Add(ref pb, i);
        return sum;
    }

    /// <summary>The dots of <paramref name="a"/> with four rows b0..b3 of the same length.</summary>
    public static (double, double, double, double) Dot4(ReadOnlySpan<double> a, ReadOnlySpan<double> b0, ReadOnlySpan<double> b1,
        ReadOnlySpan<double> b2, ReadOnlySpan<double> b3)
    {
        int n = a.Length, width = Vector<double>.Count, i = 0;
        if (b0.Length < n || b1.Length < n || b2.Length < n || b3.Length < n) throw new ArgumentException("Dot4 operands differ in length.");
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double p0 = ref MemoryMarshal.GetReference(b0);
        ref double p1 = ref MemoryMarshal.GetReference(b1);
        ref double p2 = ref MemoryMarshal.GetReference(b2);
        ref double p3 = ref MemoryMarshal.GetReference(b3);
        Vector<double> s0 = default, s1 = default, s2 = default, s3 = default;
        for (; i <= n - width; i += width)
        {
            var va = Vector.LoadUnsafe(ref pa, (nuint)i);
            s0 = Vector.FusedMultiplyAdd(va, Vector.LoadUnsafe(ref p0, (nuint)i), s0);
            s1 = Vector.FusedMultiplyAdd(va, Vector.LoadUnsafe(ref p1, (nuint)i), s1);
            s2 = Vector.FusedMultiplyAdd(va, Vector.LoadUnsafe(ref p2, (nuint)i), s2);
            s3 = Vector.FusedMultiplyAdd(va, Vector.LoadUnsafe(ref p3, (nuint)i), s3);
        }
        double r0 = Vector.Sum(s0), r1 = Vector.Sum(s1), r2 = Vector.Sum(s2), r3 = Vector.Sum(s3);
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
