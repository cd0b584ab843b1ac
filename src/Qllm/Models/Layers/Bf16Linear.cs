using Qllm.Tensors;

namespace Qllm.Models.Layers;

/// <summary>
/// A linear layer whose weights stay bf16 in memory (packed panels, half the bytes of fp32), widened to
/// fp32 inside the kernels; products and sums are fp32. Decode reads every weight once per token, so it
/// runs up to twice as fast; the rounding bound is 2^-9 relative per weight (tested against fp32).
/// </summary>
public sealed class Bf16Linear(PackedMatrix packed, float[]? bias) : ILinear, IHasBias
{
    public PackedMatrix Packed { get; } = packed.IsBf16 ? packed : throw new ArgumentException("Bf16Linear needs bf16 panels.");
    public float[]? Bias { get; } = bias;
    public int InFeatures => Packed.Columns;
    public int OutFeatures => Packed.Rows;
    public string Kind => "bf16";
    public long StorageBytes => 2L * InFeatures * OutFeatures + 4L * (Bias?.Length ?? 0);
    public long ParameterCount => (long)InFeatures * OutFeatures + (Bias?.Length ?? 0);

    public static Bf16Linear From(DenseLinear dense) =>
        new(PackedMatrix.Pack(dense.Weight, dense.OutFeatures, dense.InFeatures, bf16: true), dense.Bias);

    public void Forward(ReadOnlySpan<float> input, Span<float> output, int rows) => Gemm.Multiply(input, rows, Packed, output, Bias);

    public IEnumerable<Array> PinnedStorage => Packed.PinnedStorage;

    public void WarmMetadata() => CacheWarming.Keep(Packed.WarmMetadata() + (Bias?.Length ?? 0));
}
