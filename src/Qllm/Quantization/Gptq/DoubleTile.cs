using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// The register-blocked float64 update C −= A·B on a 4 × 16 tile (8 zmm accumulators, per k two loads of B and
/// four broadcasts of A): the Cholesky's trailing update, where dot-product kernels spend half their time on
/// horizontal sums. Vector512 falls back to software on hardware without AVX-512, so it is correct everywhere.
/// </summary>
internal static unsafe class DoubleTile
{
    public const int Rows = 4, Columns = 16;

    /// <summary>C[r, 0..cols) −= Σ_{k &lt; kc} A[r, k]·B[k, 0..cols) for r &lt; rows (rows ≤ 4, cols ≤ 16); leading dimensions in elements.</summary>
    public static void SubtractProduct(double* a, int lda, double* b, int ldb, int kc, double* c, int ldc, int rows, int cols)
    {
        if (rows == Rows && cols == Columns) SubtractProductFull(a, lda, b, ldb, kc, c, ldc);
        else
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < cols; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < kc; k++) sum += a[r * lda + k] * b[k * ldb + j];
                    c[r * ldc + j] -= sum;
                }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SubtractProductFull(double* a, int lda, double* b, int ldb, int kc, double* c, int ldc)
    {
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        double* a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 8);
            var x = Vector512.Create(a[k]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[k]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[k]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[k]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            b += ldb;
        }
        Subtract(c, c00, c01);
        Subtract(c + ldc, c10, c11);
        Subtract(c + 2 * ldc, c20, c21);
        Subtract(c + 3 * ldc, c30, c31);
    }

    private static void Subtract(double* c, Vector512<double> low, Vector512<double> high)
    {
        Vector512.Store(Vector512.Load(c) - low, c);
        Vector512.Store(Vector512.Load(c + 8) - high, c + 8);
    }
}
