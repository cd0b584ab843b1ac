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
            // Rows near the bottom have the most entries, so hand them out first.
            Compute.For(below, (long)below * below * (k1 - k0) > 1 << 18, t => UpdateTrailingRow(a, n, n - 1 - t, k0, k1));
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

    // a[i, j] −= Σ_{k0 ≤ k < k1} a[i, k]·a[j, k] for k1 ≤ j ≤ i.
    private static void UpdateTrailingRow(double[] a, int n, int i, int k0, int k1)
    {
        int width = k1 - k0;
        var ri = a.AsSpan(i * n + k0, width);
        int j = k1;
        for (; j + 3 <= i; j += 4)
        {
            var (d0, d1, d2, d3) = DoubleDot.Dot4(ri, a.AsSpan(j * n + k0, width), a.AsSpan((j + 1) * n + k0, width),
                a.AsSpan((j + 2) * n + k0, width), a.AsSpan((j + 3) * n + k0, width));
            a[i * n + j] -= d0;
            a[i * n + j + 1] -= d1;
            a[i * n + j + 2] -= d2;
            a[i * n + j + 3] -= d3;
        }
        for (; j <= i; j++) a[i * n + j] -= DoubleDot.Dot(ri, a.AsSpan(j * n + k0, width));
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
