using System.Numerics.Tensors;
using Qllm.Tensors;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// GPTQ's main loop (Frantar et al. 2022, Algorithm 1, "Lazy Batch-Updates"): columns are quantized in blocks of B;
/// inside a block each column is rounded on its grid, its error e = (w − q)/d (d = U[p, p]) is spread over the
/// block's remaining columns through row p of U, and once the block is done its errors update every later
/// column at once, W[:, i2:] −= E·U[i1:i2, i2:] — one GEMM instead of B rank-1 updates.
/// </summary>
/// <remarks>
/// Weights are held transposed and permuted, wt[p, r] = W[r, perm[p]], so a column is a contiguous row. Within a
/// block every output row evolves independently (grids are per row), so the block runs in parallel over row
/// chunks; the trailing update uses the fp32 GEMM with the coefficients U[i1:i2, i2:]ᵀ as its left operand,
/// which yields the update already in wt's layout.
/// </remarks>
internal sealed class LazyBatchQuantizer(float[] wt, float[] u, int rows, int columns, GptqGrids grids, int[] perm)
{
    private const int RowAlignment = 16;

    /// <summary>Runs the loop, writing codes and dequantized values [rows, columns] in original column order; returns the loss.</summary>
    public double Run(int blockSize, byte[] codes, float[] dequantized)
    {
        int block = Math.Min(blockSize, columns);
        var current = new float[block * rows];
        var errors = new float[block * rows];
        int chunkRows = Math.Max(RowAlignment, (rows + Compute.Threads * 4 - 1) / (Compute.Threads * 4));
        chunkRows = (chunkRows + RowAlignment - 1) / RowAlignment * RowAlignment;
        int chunks = (rows + chunkRows - 1) / chunkRows;
        var losses = new double[chunks];
        int scratchLength = grids.GroupSize;
        for (int i1 = 0; i1 < columns; i1 += block)
        {
            int i2 = Math.Min(i1 + block, columns), count = i2 - i1;
            Array.Copy(wt, (long)i1 * rows, current, 0, (long)count * rows);
            Compute.For(chunks, (long)rows * count * count > 1 << 15, t =>
            {
                int r0 = t * chunkRows, r1 = Math.Min(r0 + chunkRows, rows);
                losses[t] += QuantizeBlock(i1, count, r0, r1, current, errors, codes, dequantized, new float[scratchLength]);
            });
            if (i2 < columns) UpdateLaterColumns(i1, count, errors);
        }
        return losses.Sum() / 2;
    }

    // Algorithm 1's inner loop for rows [r0, r1) of one block; returns Σ (w − q)²/d² over those entries.
    private double QuantizeBlock(int i1, int count, int r0, int r1, float[] current, float[] errors, byte[] codes, float[] dequantized, float[] scratch)
    {
        int length = r1 - r0;
        double loss = 0;
        for (int i = 0; i < count; i++)
        {
            int p = i1 + i, column = perm[p], group = grids.GroupAt(p);
            if (grids.StartsDynamicGroup(p)) grids.FindDynamic(wt, p, r0, r1, scratch);
            float d = u[(long)p * columns + p];
            var w = current.AsSpan(i * rows + r0, length);
            var e = errors.AsSpan(i * rows + r0, length);
            for (int j = 0; j < length; j++)
            {
                int r = r0 + j;
                var grid = grids.Grid(r, group);
                int code = grid.Code(w[j]);
                float q = grid.Dequantize(code), diff = w[j] - q;
                codes[r * columns + column] = (byte)code;
                dequantized[r * columns + column] = q;
                e[j] = diff / d;
                loss += (double)diff * diff / ((double)d * d);
            }
            for (int k = i + 1; k < count; k++)
            {
                var target = current.AsSpan(k * rows + r0, length);
                TensorPrimitives.MultiplyAdd(e, -u[(long)p * columns + i1 + k], target, target);
            }
        }
        return loss;
    }

    // wt[i2 + j, r] −= Σ_i U[i1 + i, i2 + j]·E[r, i]: Y = C·Eᵀ with C [later, count] and E [rows, count] packed.
    private void UpdateLaterColumns(int i1, int count, float[] errors)
    {
        int i2 = i1 + count, later = columns - i2;
        var coefficients = new float[later * count];
        Compute.For(later, (long)later * count > 1 << 16, j =>
        {
            for (int i = 0; i < count; i++) coefficients[j * count + i] = u[(long)(i1 + i) * columns + i2 + j];
        });
        var byRow = new float[rows * count];
        for (int i = 0; i < count; i++)
            for (int r = 0; r < rows; r++)
                byRow[r * count + i] = errors[i * rows + r];
        var update = new float[later * rows];
        Gemm.Multiply(coefficients, later, PackedMatrix.Pack(byRow, rows, count), update);
        var target = wt.AsSpan(i2 * rows, later * rows);
        TensorPrimitives.Subtract(target, update, target);
    }
}
