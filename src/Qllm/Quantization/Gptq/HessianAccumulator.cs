using System.Numerics.Tensors;
using Qllm.Tensors;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// The layer-wise Hessian of GPTQ's objective ‖WX − QX‖² (Frantar et al. 2022, Section 3): H = 2·XᵀX / n as a
/// running mean over every calibration token seen, exactly as the reference's add_batch keeps it
/// (H ← H·n/(n + rows); n += rows; H += (2/n)·XᵀX). One accumulator serves every layer that reads the same input
/// (q/k/v, gate/up), so solvers copy the matrix and never change it.
/// </summary>
/// <remarks>
/// XᵀX is the dominant cost of calibration after the forward passes (262,144 tokens × 2048² is 1.1 TFLOP even
/// using symmetry), so <see cref="LowerProduct"/> runs it through the GEMM micro-kernel on the tiles on and below
/// the diagonal only, fp32 products as in the reference, accumulated in float64 per chunk of rows.
/// </remarks>
public sealed class HessianAccumulator
{
    private const int ChunkRows = 4096;

    // Row-major [Columns, Columns]; only entries with row ≥ column are kept up to date.
    private readonly double[] _lower;

    // The SYRK's packing and fp32 product buffers (16 MB at k = 2048), made once: calibration adds one batch per
    // chunk of samples.
    private LowerProduct? _product;

    public HessianAccumulator(int columns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        Columns = columns;
        _lower = new double[(long)columns * columns];
    }

    /// <summary>Input width of the layers this Hessian belongs to.</summary>
    public int Columns { get; }

    /// <summary>Calibration tokens (rows) accumulated so far.</summary>
    public long Samples { get; private set; }

    /// <summary>Adds one batch of calibration inputs x [rows, Columns] (one add_batch call).</summary>
    public void Add(ReadOnlySpan<float> x, int rows)
    {
        int k = Columns;
        if (rows < 0 || x.Length < (long)rows * k) throw new ArgumentException($"expected {rows}×{k} inputs, got {x.Length} values.");
        if (rows == 0) return;
        long total = Samples + rows;
        double keep = (double)Samples / total, factor = 2.0 / total;
        Samples = total;
        var lower = _lower;
        Compute.For(k, (long)k * k > 1 << 16, i => TensorPrimitives.Multiply(lower.AsSpan(i * k, i + 1), keep, lower.AsSpan(i * k, i + 1)));

        // XᵀX of the batch in fp32, summed into the float64 running mean once per chunk of rows (as the reference's
        // fp32 matmul per add_batch call), through the GEMM micro-kernel on the lower triangle only (a SYRK).
        var product = _product ??= new LowerProduct(k);
        for (int start = 0; start < rows; start += ChunkRows)
        {
            int m = Math.Min(ChunkRows, rows - start);
            product.Accumulate(x.Slice(start * k, m * k), m);
            product.FlushInto(lower, factor);
        }
    }

    /// <summary>The full symmetric H, row-major [Columns, Columns]: a fresh copy the caller owns.</summary>
    public double[] CopyMatrix()
    {
        int k = Columns;
        var h = (double[])_lower.Clone();
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++)
                h[i * k + j] = h[j * k + i];
        return h;
    }
}
