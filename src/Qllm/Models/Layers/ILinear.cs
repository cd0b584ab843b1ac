namespace Qllm.Models.Layers;

/// <summary>
/// The one seam every quantization method plugs into: y[rows, out] = f(x[rows, in]).
/// Dense fp32, fake-quant (weights on a grid), activation-quantized wrappers and packed low-bit
/// layers all implement it, and the forward pass never knows which one it holds.
/// </summary>
public interface ILinear
{
    int InFeatures { get; }
    int OutFeatures { get; }

    /// <summary>Short description for reports, e.g. "fp32" or "fake-quant w4 g128 asym".</summary>
    string Kind { get; }

    /// <summary>Bytes the layer's parameters occupy in memory.</summary>
    long StorageBytes { get; }

    /// <summary>Logical parameters: out × in weights plus the bias, whatever their storage.</summary>
    long ParameterCount { get; }

    void Forward(ReadOnlySpan<float> input, Span<float> output, int rows);

    /// <summary>
    /// The pinned arrays a forward pass streams (packed weights), for <see cref="Tensors.HugePages"/>; none by
    /// default. Arrays that may move, or that a wrapper only borrows, are not listed.
    /// </summary>
    IEnumerable<Array> PinnedStorage => [];

    /// <summary>
    /// Reads the small objects a decode forward reads before the weights themselves (the layer's fields, its index
    /// tables, its arrays' headers), see <see cref="Tensors.CacheWarming"/>: the model calls this for all of a
    /// block's layers before the block runs, so that their misses overlap. Nothing by default.
    /// </summary>
    void WarmMetadata() { }
}
