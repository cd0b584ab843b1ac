using System.Diagnostics;
using Qllm.Common;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// GPTQ (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained Transformers"):
/// quantizes one linear layer's weight column by column, compensating each rounding error on the columns not yet
/// quantized through the inverse layer Hessian, following the reference's fasterquant step by step.
/// </summary>
public static class GptqSolver
{
    /// <summary>Quantizes weight [rows = out features, columns = in features] against the Hessian of its inputs.</summary>
    public static GptqResult Quantize(ReadOnlySpan<float> weight, int rows, int columns, HessianAccumulator h, GptqOptions options)
    {
        options.Validate();
        if (rows < 1 || columns < 1 || weight.Length != (long)rows * columns)
            throw new ArgumentException($"weight has {weight.Length} values, expected {rows}×{columns}.");
        if (h.Columns != columns) throw new ArgumentException($"the Hessian is {h.Columns} wide but the weight has {columns} columns.");
        if (h.Samples == 0) throw new QllmException("GPTQ: no calibration inputs were accumulated for this layer's Hessian.");
        var clock = Stopwatch.StartNew();
        var spec = options.Spec;
        var w = weight.ToArray();
        var hessian = h.CopyMatrix();

        int[] perm = options.ActOrder ? DescendingDiagonalOrder(hessian, columns) : Enumerable.Range(0, columns).ToArray();
        var grids = new GptqGrids(rows, columns, spec, options.StaticGroups, perm);
        if (spec.GroupSize <= 0) grids.FindUpFront(w); // per channel: before dead columns are zeroed, as the reference
        ZeroDeadColumns(hessian, w, rows, columns);
        if (options.StaticGroups) grids.FindUpFront(w);
        if (options.ActOrder) hessian = Permute(hessian, perm, columns);

        float[] u = InverseHessianFactor.Compute(hessian, columns, options.PercDamp, out double damp, out int retries);
        var wt = new float[(long)rows * columns];
        for (int p = 0; p < columns; p++)
            for (int r = 0; r < rows; r++)
                wt[p * rows + r] = w[r * columns + perm[p]];

        var codes = new byte[rows * columns];
        var dequantized = new float[rows * columns];
        double loss = new LazyBatchQuantizer(wt, u, rows, columns, grids, perm).Run(options.BlockSize, codes, dequantized);
        if (!double.IsFinite(loss) || !dequantized.All(float.IsFinite))
            throw new QllmException("GPTQ produced non-finite weights: the layer's weights contain NaN/Inf or its inverse Hessian is numerically unusable (try a larger --percdamp).");
        var quantized = new QuantizedWeight(rows, columns, spec, codes, grids.Scales, grids.Zeros, options.ActOrder ? grids.GroupIndex : null);
        return new GptqResult(quantized, dequantized, loss, damp, retries, clock.Elapsed);
    }

    /// <summary>
    /// Act-order (the reference's --act-order / desc_act): columns with the largest Hessian diagonal first. The
    /// reference uses torch.argsort, which is not stable; this sort is stable (ties keep column order) so results
    /// are reproducible. The diagonal is read after dead columns get H[i, i] = 1, as in the reference.
    /// </summary>
    private static int[] DescendingDiagonalOrder(double[] h, int n)
    {
        var diagonal = new double[n];
        for (int i = 0; i < n; i++) diagonal[i] = h[i * n + i] == 0 ? 1 : h[i * n + i];
        return Enumerable.Range(0, n).OrderByDescending(i => diagonal[i]).ToArray();
    }

    /// <summary>A column no calibration input ever activates (diag H = 0) gets H[i, i] = 1 and a zero weight.</summary>
    private static void ZeroDeadColumns(double[] h, float[] w, int rows, int n)
    {
        for (int i = 0; i < n; i++)
        {
            if (h[i * n + i] != 0) continue;
            h[i * n + i] = 1;
            for (int r = 0; r < rows; r++) w[r * n + i] = 0;
        }
    }

    private static double[] Permute(double[] h, int[] perm, int n)
    {
        var permuted = new double[(long)n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                permuted[i * n + j] = h[perm[i] * n + perm[j]];
        return permuted;
    }
}
