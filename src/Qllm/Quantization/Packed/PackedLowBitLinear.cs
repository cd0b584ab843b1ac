using System.Buffers;
using System.Numerics.Tensors;
using Qllm.Models.Layers;
using Qllm.Tensors;
using Qllm.Tensors.Kernels;

namespace Qllm.Quantization.Packed;

/// <summary>
/// A linear layer that keeps its weights as 2- to 8-bit integer codes (bit-packed, <see cref="LowBitPanels"/>)
/// with per-group scales and zeros, and computes with them directly:
/// <list type="bullet">
/// <item>decode (rows &lt; 4): a GEMV that streams the packed codes once and sums x·code per group, applying
/// y = Σ_g scale_g · (Σ x·code − zero_g · Σ x) with Σ x per group computed once per input row;</item>
/// <item>prefill: the fp32 GEMM's blocking, each k-block × 32 slice dequantized into a per-thread buffer first
/// (as bf16 panels are widened), so the micro-kernel and its speed are fp32's.</item>
/// </list>
/// Act-order weights (non-monotone g_idx) were reordered at construction so groups are contiguous; each input
/// row is gathered into that order (and zero-padded per group) in a pooled buffer. Results equal the dense
/// product with <see cref="QuantizedWeight.Dequantize"/>'s weights up to fp32 rounding.
/// </summary>
public sealed class PackedLowBitLinear : ILinear, IHasBias
{
    private readonly LowBitPanels _panels;

    public float[]? Bias { get; }
    public int InFeatures => _panels.Columns;
    public int OutFeatures => _panels.Rows;
    public QuantSpec Spec => _panels.Spec;

    public string Kind => $"packed {Spec.Describe()}{(_panels.Order != null ? " act-order" : "")}";

    /// <summary>Codes (with their padding), scales, zeros, group tables, the act-order permutation and the bias.</summary>
    public long StorageBytes => _panels.StorageBytes + 4L * (Bias?.Length ?? 0);

    public long ParameterCount => (long)InFeatures * OutFeatures + (Bias?.Length ?? 0);

    public PackedLowBitLinear(QuantizedWeight weight, float[]? bias)
    {
        if (bias != null && bias.Length != weight.Rows) throw new ArgumentException($"bias has {bias.Length} values, expected {weight.Rows}.");
        _panels = new LowBitPanels(weight);
        Bias = bias;
    }

    /// <summary>The weight in <see cref="QuantizedWeight"/>'s layout (codes, scales, zeros, g_idx), exactly as given: for checkpoints.</summary>
    public QuantizedWeight ToQuantizedWeight() => _panels.ToQuantizedWeight();

    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        int n = OutFeatures, k = InFeatures, padded = _panels.PaddedColumns, groups = _panels.Groups;
        if (input.Length < (long)rows * k || output.Length < (long)rows * n)
            throw new ArgumentException($"linear operand too small for rows={rows} out={n} in={k}.");
        if (rows == 0 || n == 0) return;
        bool gemv = Gemm.IsGemv(rows);
        // Prefill reads the input in place when group order is column order and no group needs padding (e.g. 4-bit
        // g128): gathering 512 rows would cost a few percent of the GEMM, on one thread.
        bool inPlace = !gemv && _panels.Order == null && padded == k;
        float[] gathered = ArrayPool<float>.Shared.Rent(inPlace ? 0 : rows * padded);
        float[] sums = ArrayPool<float>.Shared.Rent(gemv ? rows * groups : 0);
        try
        {
            if (!inPlace)
                for (int r = 0; r < rows; r++)
                    Gather(input.Slice(r * k, k), gathered.AsSpan(r * padded, padded), gemv ? sums.AsSpan(r * groups, groups) : default);
            var path = KernelSelector.Current;
            fixed (float* direct = input, copy = gathered, s = sums, y = output)
            {
                float* x = inPlace ? direct : copy;
                if (gemv) new LowBitGemv(_panels, x, s, y, rows, path).Run();
                else new BlockedGemm<LowBitSlices>(x, y, new LowBitSlices(_panels, path), rows, n, padded, path).Run();
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(gathered);
            ArrayPool<float>.Shared.Return(sums);
        }
        if (Bias != null)
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(output.Slice(r * n, n), Bias, output.Slice(r * n, n));
    }

    /// <summary>
    /// One input row in group order, each group zero-padded to whole words; for the GEMV (sums not empty) also each
    /// group's sum, and the row scaled per code position as the GEMV kernel expects.
    /// </summary>
    private void Gather(ReadOnlySpan<float> row, Span<float> destination, Span<float> sums)
    {
        int perWord = _panels.CodesPerWord;
        int[] columns = _panels.GroupColumns, blocks = _panels.GroupBlocks;
        int[]? order = _panels.Order;
        for (int g = 0; g < _panels.Groups; g++)
        {
            int length = columns[g + 1] - columns[g];
            var target = destination.Slice(blocks[g] * perWord, (blocks[g + 1] - blocks[g]) * perWord);
            if (order == null) row.Slice(columns[g], length).CopyTo(target);
            else
                for (int j = 0; j < length; j++) target[j] = row[order[columns[g] + j]];
            target[length..].Clear();
            if (sums.IsEmpty) continue;
            sums[g] = TensorPrimitives.Sum<float>(target[..length]);
            // The GEMV's x scaled by 2^(−bits·s) for the s-th code of each word (see LowBitKernel.Gemv32); groups
            // start on word boundaries, so the factors repeat every perWord columns.
            var factors = _panels.SlotFactors;
            for (int word = 0; word < length; word += perWord)
                for (int slot = 0; slot < perWord && word + slot < length; slot++) target[word + slot] *= factors[slot];
        }
    }
}
