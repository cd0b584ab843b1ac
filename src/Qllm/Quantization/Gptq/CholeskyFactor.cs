using Qllm.Tensors;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// Dense float64 Cholesky factorisation and lower-triangular inverse on row-major n×n arrays, blocked and
/// parallel so that n = 2048 takes a fraction of a second and n = 11008 (LLaMA-7B down_proj) stays O(n³)
/// without a LAPACK dependency.
/// </summary>
internal static class CholeskyFactor
{
    private const int Block = 128;

    /// <summary>
    /// A = L·Lᵀ in place: the lower triangle of <paramref name="a"/> becomes L (the upper triangle is read as
    /// garbage and left so). Right-looking blocked: factor a diagonal block, solve the panel below it, then
    /// subtract the panel's outer product from the trailing lower triangle (the dominant, parallel step).
    /// Returns false when a pivot is not positive (A not positive definite in working precision) or not finite.
    /// </summary>
    public static bool FactorLower(double[] a, int n)
    {
        for (int k0 = 0; k0 < n; k0 += Block)
        {
            int k1 = Math.Min(k0 + Block, n);
            for (int i = k0; i < k1; i++)
            {
                SolveRowAgainstPanel(a, n, i, k0, i);
                var row = a.AsSpan(i * n + k0, i - k0);
                double pivot = a[i * n + i] - DoubleDot.Dot(row, row);
                if (!(pivot > 0) || !double.IsFinite(pivot)) return false;
                a[i * n + i] = Math.Sqrt(pivot);
            }
            int below = n - k1;
            if (below == 0) break;
            bool parallel = (long)below * (k1 - k0) * (k1 - k0) > 1 << 16;
            Compute.For(below, parallel, t => SolveRowAgainstPanel(a, n, k1 + t, k0, k1));
            SubtractPanelOuterProduct(a, n, k0, k1);
        }
        return true;
    }

    /// <summary>
    /// X = L⁻¹ for lower-triangular L, returned transposed (Xᵀ, upper triangular, row-major). Row j of Xᵀ
    /// is column j of X, which forward substitution fills independently of every other column: so four
    /// columns go to one task (sharing each row of L through <see cref="DoubleDot.Dot4"/>), tasks in parallel.
    /// </summary>
    public static double[] InvertLowerTransposed(double[] l, int n)
    {
        var xt = new double[(long)n * n];
        int groups = (n + 3) / 4;
        Compute.For(groups, (long)n * n * n > 1 << 18, g => InvertColumns(l, xt, n, 4 * g, Math.Min(4 * g + 4, n)));
        return xt;
    }

    // a[i, j] = (a[i, j] − Σ_{k0 ≤ k < j} a[i, k]·a[j, k]) / a[j, j] for j in [k0, end): row i against the factored panel rows.
    private static void SolveRowAgainstPanel(double[] a, int n, int i, int k0, int end)
    {
        for (int j = k0; j < end; j++)
            a[i * n + j] = (a[i * n + j] - DoubleDot.Dot(a.AsSpan(i * n + k0, j - k0), a.AsSpan(j * n + k0, j - k0))) / a[j * n + j];
    }

    // a[i, j] −= Σ_{k0 ≤ k < k1} a[i, k]·a[j, k] for k1 ≤ j ≤ i, in 16-column strips (the biggest, leftmost, first)
    // of 4 × 16 tiles against the panel transposed once into pt[k, j]. Tiles on the diagonal also update a few
    // entries above it, which the factorisation never reads.
    private static unsafe void SubtractPanelOuterProduct(double[] a, int n, int k0, int k1)
    {
        int below = n - k1, kc = k1 - k0;
        var pt = new double[kc * below];
        Compute.For(below, (long)below * kc > 1 << 16, j =>
        {
            for (int k = 0; k < kc; k++) pt[k * below + j] = a[(k1 + j) * n + k0 + k];
        });
        int strips = (below + DoubleTile.Columns - 1) / DoubleTile.Columns;
        Compute.For(strips, (long)below * below * kc > 1 << 18, strip =>
        {
            int j0 = strip * DoubleTile.Columns, columns = Math.Min(DoubleTile.Columns, below - j0);
            fixed (double* pa = a, pp = pt)
                for (int i = j0; i < below; i += DoubleTile.Rows)
                {
                    double* rows = pa + (long)(k1 + i) * n;
                    DoubleTile.SubtractProduct(rows + k0, n, pp + j0, below, kc, rows + k1 + j0, n, Math.Min(DoubleTile.Rows, below - i), columns);
                }
        });
    }

    // Columns [j0, j1) of L⁻¹: x[i, j] = −(Σ_{j ≤ k < i} l[i, k]·x[k, j]) / l[i, i]. Starting every dot at j0 is
    // exact because x[k, j] = 0 for k < j (the rows of xt are zero there).
    private static void InvertColumns(double[] l, double[] xt, int n, int j0, int j1)
    {
        for (int j = j0; j < j1; j++) xt[j * n + j] = 1.0 / l[j * n + j];
        for (int i = j0 + 1; i < n; i++)
        {
            var li = l.AsSpan(i * n + j0, i - j0);
            double inv = -1.0 / l[i * n + i];
            if (j1 - j0 == 4 && i >= j1)
            {
                var (d0, d1, d2, d3) = DoubleDot.Dot4(li, xt.AsSpan(j0 * n + j0, i - j0), xt.AsSpan((j0 + 1) * n + j0, i - j0),
                    xt.AsSpan((j0 + 2) * n + j0, i - j0), xt.AsSpan((j0 + 3) * n + j0, i - j0));
                xt[j0 * n + i] = d0 * inv;
                xt[(j0 + 1) * n + i] = d1 * inv;
                xt[(j0 + 2) * n + i] = d2 * inv;
                xt[(j0 + 3) * n + i] = d3 * inv;
                continue;
            }
            for (int j = j0; j < j1 && j < i; j++) xt[j * n + i] = DoubleDot.Dot(li, xt.AsSpan(j * n + j0, i - j0)) * inv;
        }
    }
}
