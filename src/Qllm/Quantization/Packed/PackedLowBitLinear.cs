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
/// padded to whole words of codes: the GEMV gathers its few input rows into that order in a per-thread buffer, prefill
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

    /// <summary>Codes, scales and zeros: what a decode step streams.</summary>
    public IEnumerable<Array> PinnedStorage => [_panels.Codes, _panels.Scales, _panels.Zeros];

    public void WarmMetadata() => CacheWarming.Keep(_panels.WarmMetadata() + (Bias?.Length ?? 0));

    /// <summary>The weight in <see cref="QuantizedWeight"/>'s layout (codes, scales, zeros, g_idx), exactly as given: for checkpoints.</summary>
    public QuantizedWeight ToQuantizedWeight() => _panels.ToQuantizedWeight();

    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        int n = OutFeatures, k = InFeatures;
        if (input.Length < (long)rows * k || output.Length < (long)rows * n)
            throw new ArgumentException($"linear operand too small for rows={rows} out={n} in={k}.");
        if (rows == 0 || n == 0) return;
        if (Gemm.IsGemv(rows))
        {
            fixed (float* y = output) DecodeBatch([this], input, new ReadOnlySpan<nint>(&y, 1), rows);
            return;
        }
        // Prefill reads the input in place, reordered while packing activations (a column map).
        var path = KernelSelector.Current;
        fixed (float* x = input, y = output)
            new BlockedGemm<LowBitSlices>(x, k, y, new LowBitSlices(_panels, path), rows, n, _panels.PaddedColumns, path).Run();
        AddBias(output, rows);
    }

    /// <summary>
    /// Decode for layers that read the same input (q/k/v, gate/up), as one parallel loop over all their panels.
    /// outputs[i] [rows, layers[i].OutFeatures]; rows must be fewer than <see cref="Gemm.IsGemv"/>'s limit.
    /// </summary>
    public static unsafe void ForwardBatch(ReadOnlySpan<PackedLowBitLinear> layers, ReadOnlySpan<float> input, ReadOnlySpan<float[]> outputs, int rows)
    {
        if (!Gemm.IsGemv(rows)) throw new ArgumentException("ForwardBatch is the decode path: too many rows.");
        if (layers.Length > LowBitGemv.MaxLayers) throw new ArgumentException($"ForwardBatch takes at most {LowBitGemv.MaxLayers} layers.");
        for (int i = 0; i < layers.Length; i++)
            if (layers[i].InFeatures != layers[0].InFeatures || outputs[i].Length < (long)rows * layers[i].OutFeatures || input.Length < (long)rows * layers[i].InFeatures)
                throw new ArgumentException("ForwardBatch: layers must share the input width, and each output must hold rows × its width.");
        nint* pointers = stackalloc nint[LowBitGemv.MaxLayers];
        fixed (float* y0 = Output(outputs, 0), y1 = Output(outputs, 1), y2 = Output(outputs, 2), y3 = Output(outputs, 3))
        {
            pointers[0] = (nint)y0; pointers[1] = (nint)y1; pointers[2] = (nint)y2; pointers[3] = (nint)y3;
            DecodeBatch(layers, input, new ReadOnlySpan<nint>(pointers, layers.Length), rows);
        }
    }

    private static float[]? Output(ReadOnlySpan<float[]> outputs, int i) => i < outputs.Length ? outputs[i] : null;

    /// <summary>One batched GEMV over the layers' panels; each thread prepares the inputs its panels read (<see cref="LowBitGemv"/>).</summary>
    private static unsafe void DecodeBatch(ReadOnlySpan<PackedLowBitLinear> layers, ReadOnlySpan<float> input, ReadOnlySpan<nint> outputs, int rows)
    {
        var gemv = new LowBitGemv(rows, KernelSelector.Current);
        fixed (float* x = input)
        {
            for (int i = 0; i < layers.Length; i++) gemv.Add(layers[i]._panels, x, (float*)outputs[i]);
            gemv.Run();
        }
        for (int i = 0; i < layers.Length; i++)
            layers[i].AddBias(new Span<float>((float*)outputs[i], rows * layers[i].OutFeatures), rows);
    }

    private void AddBias(Span<float> output, int rows)
    {
        if (Bias == null) return;
        int n = OutFeatures;
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(output.Slice(r * n, n), Bias, output.Slice(r * n, n));
    }
}
