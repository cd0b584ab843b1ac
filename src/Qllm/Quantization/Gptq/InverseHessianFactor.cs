using Qllm.Common;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// GPTQ's Hinv (Frantar et al. 2022, Section 3, "Cholesky Reformulation"): damp H by λ = percdamp · mean(diag H),
/// then take the upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU), whose rows hold every quantity Algorithm 1 needs.
/// </summary>
/// <remarks>
/// The reference computes it as cholesky → cholesky_inverse → cholesky(upper). This computes the same U with
/// one factorisation and one triangular inverse: with J the reversal permutation, factor J·H·J = L·Lᵀ; then
/// H⁻¹ = (J·L⁻ᵀ·J)(J·L⁻¹·J), and J·L⁻¹·J is upper triangular with a positive diagonal, so by uniqueness of the
/// Cholesky factor U = J·L⁻¹·J. That halves the O(n³) work and never forms H⁻¹ explicitly (better conditioned).
/// </remarks>
internal static class InverseHessianFactor
{
    /// <summary>How many times a failed factorisation is retried, each time with ten times the damping.</summary>
    public const int MaxRetries = 4;

    /// <summary>
    /// U as float32 row-major (the precision the reference's update loop runs in). <paramref name="h"/> is the
    /// full symmetric matrix; it is not modified.
    /// </summary>
    public static float[] Compute(double[] h, int n, double percDamp, out double damp, out int retries)
    {
        double meanDiagonal = 0;
        for (int i = 0; i < n; i++) meanDiagonal += h[i * n + i];
        meanDiagonal /= n;
        if (!double.IsFinite(meanDiagonal)) throw new QllmException("GPTQ: the Hessian has non-finite entries (the calibration activations overflowed or contain NaN).");
        damp = percDamp * meanDiagonal;
        for (retries = 0; ; retries++)
        {
            var reversed = new double[(long)n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++)
                    reversed[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
            for (int i = 0; i < n; i++) reversed[i * n + i] += damp;
            if (CholeskyFactor.FactorLower(reversed, n))
            {
                var x = CholeskyFactor.InvertLower(reversed, n);
                var u = new float[(long)n * n];
                bool finite = true;
                for (int a = 0; a < n; a++)
                    for (int b = a; b < n; b++)
                    {
                        float v = (float)x[(n - 1 - a) * n + (n - 1 - b)];
                        u[a * n + b] = v;
                        finite &= float.IsFinite(v);
                    }
                if (finite) return u;
            }
            if (retries == MaxRetries)
                throw new QllmException($"GPTQ: the damped Hessian is not positive definite even with damping {damp:G3} " +
                    $"({MaxRetries} retries at 10× each); the calibration inputs are degenerate — use more calibration samples or a larger --percdamp.");
            damp *= 10;
        }
    }
}
