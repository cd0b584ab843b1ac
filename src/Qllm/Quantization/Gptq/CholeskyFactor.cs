using System.Numerics.Tensors;
using Qllm.Tensors;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// Dense float64 Cholesky factorisation and lower-triangular inverse on row-major n×n arrays, blocked (128) and
/// parallel, with their O(n³) parts in the register-blocked <see cref="DoubleTile"/>, so that GPTQ needs no LAPACK:
/// measured on 2 shared cores, n = 2048 takes about 0.1 s for each, n = 4096 about 0.5–1 s.
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
                double pivot = a[i * n + i] - TensorPrimitives.Dot(row, row);
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
    /// X = L⁻¹ for lower-triangular L (row-major, upper triangle ignored), blocked by rows: for each block of rows
    /// I = [i0, i1), first X[I, :i0] ← −L[I, :i0]·X[:i0, :i0] with the 4 × 16 tile (the O(n³) part, parallel over
    /// column strips), then forward substitution through the block's own rows, parallel over column ranges
    /// (columns of X are independent): X[i, :] = (e_i − Σ_{i0 ≤ k &lt; i} L[i, k]·X[k, :] − (the part above)) / L[i, i].
    /// </summary>
    public static double[] InvertLower(double[] l, int n)
    {
        var x = new double[(long)n * n];
        for (int i0 = 0; i0 < n; i0 += Block)
        {
            int i1 = Math.Min(i0 + Block, n);
            SubtractEarlierRows(l, x, n, i0, i1);
            int ranges = Math.Min(Compute.Threads * 4, (i1 + 63) / 64);
            Compute.For(ranges, (long)(i1 - i0) * (i1 - i0) * i1 > 1 << 16, t =>
                SubstituteBlock(l, x, n, i0, i1, (int)((long)i1 * t / ranges), (int)((long)i1 * (t + 1) / ranges)));
        }
        return x;
    }

    // a[i, j] = (a[i, j] − Σ_{k0 ≤ k < j} a[i, k]·a[j, k]) / a[j, j] for j in [k0, end): row i against the factored panel rows.
    private static void SolveRowAgainstPanel(double[] a, int n, int i, int k0, int end)
    {
        for (int j = k0; j < end; j++)
            a[i * n + j] = (a[i * n + j] - TensorPrimitives.Dot(a.AsSpan(i * n + k0, j - k0), a.AsSpan(j * n + k0, j - k0))) / a[j * n + j];
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

    // x[i, c] −= Σ_{c ≤ k < i0} l[i, k]·x[k, c] for rows i in [i0, i1), columns c < i0 (x[k, c] = 0 for k < c).
    private static unsafe void SubtractEarlierRows(double[] l, double[] x, int n, int i0, int i1)
    {
        int strips = (i0 + DoubleTile.Columns - 1) / DoubleTile.Columns;
        Compute.For(strips, (long)(i1 - i0) * i0 * i0 > 1 << 18, strip =>
        {
            int c0 = strip * DoubleTile.Columns, columns = Math.Min(DoubleTile.Columns, i0 - c0);
            // k in slices of Block, so that the slice of x (Block × 16) stays in L1 across the block's rows.
            fixed (double* pl = l, px = x)
                for (int k0 = c0; k0 < i0; k0 += Block)
                    for (int i = i0; i < i1; i += DoubleTile.Rows)
                        DoubleTile.SubtractProduct(pl + (long)i * n + k0, n, px + (long)k0 * n + c0, n, Math.Min(Block, i0 - k0),
                            px + (long)i * n + c0, n, Math.Min(DoubleTile.Rows, i1 - i), columns);
        });
    }

    // Forward substitution through rows [i0, i1) for columns [c0, c1): rows already hold −Σ over earlier blocks.
    private static void SubstituteBlock(double[] l, double[] x, int n, int i0, int i1, int c0, int c1)
    {
        for (int i = i0; i < i1; i++)
        {
            int end = Math.Min(c1, i + 1);
            if (end <= c0) continue;
            var row = x.AsSpan(i * n + c0, end - c0);
            for (int k = Math.Max(i0, c0); k < i; k++)
            {
                int width = Math.Min(end, k + 1) - c0;
                if (width > 0) TensorPrimitives.MultiplyAdd(x.AsSpan(k * n + c0, width), -l[i * n + k], row[..width], row[..width]);
            }
            if (i < c1 && i >= c0) row[i - c0] += 1;
            TensorPrimitives.Multiply(row, 1.0 / l[i * n + i], row);
        }
    }
}
