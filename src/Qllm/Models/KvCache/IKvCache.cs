namespace Qllm.Models.KvCache;

/// <summary>
/// The key/value cache of incremental decoding. Storage is behind this interface so that a KV-cache
/// quantizer (KIVI, KVQuant) can replace it: it quantizes in <see cref="IKvCacheLayer.Write"/> and
/// dequantizes in the reads. Every sequence of the batch holds the same number of positions.
/// </summary>
public interface IKvCache
{
    int NumLayers { get; }
    int BatchSize { get; }
    int Capacity { get; }

    /// <summary>Positions already stored (and so the position of the next token).</summary>
    int Length { get; }

    IKvCacheLayer Layer(int index);

    /// <summary>Marks <paramref name="tokens"/> more positions as stored, after every layer has written them.</summary>
    void Advance(int tokens);

    void Reset();
}

/// <summary>
/// One layer's keys and values, for every sequence and KV head. Reads return keys transposed and values
/// by row, the layouts in which both attention products (Q·Kᵀ and P·V) vectorise over a register tile.
/// Every read covers <see cref="PaddedLength"/>(length) positions; those past <c>length</c> must be finite
/// (zero in a fresh cache), as attention multiplies them by zero weights.
/// </summary>
public interface IKvCacheLayer
{
    /// <summary>Stores <paramref name="count"/> consecutive positions from <paramref name="position"/>: rows of numKvHeads × headDim.</summary>
    void Write(int sequence, int position, int count, ReadOnlySpan<float> keys, ReadOnlySpan<float> values);

    /// <summary>
    /// Keys of one (sequence, KV head) for positions [0, length), transposed: element (d, j) at d·stride + j.
    /// The result is the cache's own memory or <paramref name="scratch"/> (headDim × PaddedLength(length)).
    /// </summary>
    ReadOnlySpan<float> ReadKeys(int sequence, int kvHead, int length, Span<float> scratch, out int stride);

    /// <summary>Values by position: element (j, d) at j·stride + d, for the same padded range.</summary>
    ReadOnlySpan<float> ReadValues(int sequence, int kvHead, int length, Span<float> scratch, out int stride);

    /// <summary>Attention reads keys in blocks of 32 positions: lengths are rounded up to that.</summary>
    public static int PaddedLength(int length) => (length + 31) / 32 * 32;
}
