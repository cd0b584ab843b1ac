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
/// Act-order weights (non-monotone g_idx) were reordered at construction so groups are contiguous, and groups are
/// padded to whole words of codes: the GEMV gathers its few input rows into that order in a pooled buffer, prefill
/// reorders while it packs activations anyway (a column map). Results equal the dense product with
/// <see cref="QuantizedWeight.Dequantize"/>'s weights up to fp32 rounding. Forward allocates nothing.
/// </summary>
public sealed class PackedLowBitLinear : ILinear, IHasBias
{
    private readonly LowBitPanels _panels;

    public float[]? Bias { get; }
    public int InFeatures => _panels.Columns;
    public int OutFeatures => _panels.Rows;
    public QuantSpec Spec => _panels.Spec;

    public string Kind => $"packed {Spec.Describe()}{(_panels.Order != null ? " act-order" : "")}";

    /// <summary>Codes (with their padding), scales, zeros, group tables, the act-order permutation, prefill's column map and the bias.</summary>
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
        // Prefill reads the input in place (reordered while packing activations); only the GEMV gathers its few rows.
        float[] gathered = ArrayPool<float>.Shared.Rent(gemv ? rows * padded : 0);
        float[] sums = ArrayPool<float>.Shared.Rent(gemv ? rows * groups : 0);
        try
        {
            if (gemv)
                for (int r = 0; r < rows; r++)
                    LowBitGather.Row(_panels, input.Slice(r * k, k), gathered.AsSpan(r * padded, padded), sums.AsSpan(r * groups, groups));
            var path = KernelSelector.Current;
            fixed (float* x = input, copy = gathered, s = sums, y = output)
            {
                if (gemv) new LowBitGemv(_panels, copy, s, y, rows, path).Run();
                else new BlockedGemm<LowBitSlices>(x, k, y, new LowBitSlices(_panels, path), rows, n, padded, path).Run();
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
}
