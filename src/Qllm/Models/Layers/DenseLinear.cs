using Qllm.Tensors;

namespace Qllm.Models.Layers;

/// <summary>
/// A full-precision linear layer: weight [out, in] row-major (the nn.Linear layout) and an optional bias.
/// The GEMM reads a packed copy made on first use; code that edits <see cref="Weight"/> in place afterwards
/// must call <see cref="WeightChanged"/>.
/// </summary>
public sealed class DenseLinear : ILinear, IHasBias
{
    private PackedMatrix? _packed;

    public float[] Weight { get; }
    public float[]? Bias { get; }
    public int InFeatures { get; }
    public int OutFeatures { get; }
    public string Kind { get; }

    public DenseLinear(float[] weight, int outFeatures, int inFeatures, float[]? bias = null, string kind = "fp32")
    {
        if (weight.Length != (long)outFeatures * inFeatures)
            throw new ArgumentException($"weight has {weight.Length} values, expected {outFeatures}×{inFeatures}.");
        if (bias != null && bias.Length != outFeatures)
            throw new ArgumentException($"bias has {bias.Length} values, expected {outFeatures}.");
        Weight = weight;
        Bias = bias;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        Kind = kind;
    }

    public long StorageBytes => 4L * ParameterCount;
    public long ParameterCount => Weight.Length + (Bias?.Length ?? 0);

    // Not LazyInitializer with a lambda: that lambda captures `this` and would allocate on every decode step.
    public PackedMatrix Packed => Volatile.Read(ref _packed) ?? PackOnce();

    private PackedMatrix PackOnce()
    {
        var packed = PackedMatrix.Pack(Weight, OutFeatures, InFeatures);
        return Interlocked.CompareExchange(ref _packed, packed, null) ?? packed;
    }

    /// <summary>Drops the packed copy after <see cref="Weight"/> was modified in place.</summary>
    public void WeightChanged() => _packed = null;

    public void Forward(ReadOnlySpan<float> input, Span<float> output, int rows) =>
        Gemm.Multiply(input, rows, Packed, output, Bias);

    public void WarmMetadata()
    {
        if (Volatile.Read(ref _packed) is { } packed) CacheWarming.Keep(packed.WarmMetadata() + (Bias?.Length ?? 0));
    }

    /// <summary>The packed panels the kernels stream (packing them now if no forward has yet).</summary>
    public IEnumerable<Array> PinnedStorage => Packed.PinnedStorage;
}
