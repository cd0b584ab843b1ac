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
/// One layer's keys and values, for every sequence and KV head, both read by row (position-major): writing a
/// decode step's token then touches a few consecutive cache lines per head, and a decode step's scores read
/// the keys as one sequential run. (Keys stored transposed cost a cache line per feature per head on every
/// write: RoPE, cache writes and attention of a W4 110M decode step took 0.49 ms a token that way and 0.43 ms by
/// row, at 128 positions on average. The tiled prefill path transposes the keys it reads instead.)
/// Every read covers <see cref="PaddedLength"/>(length) positions; those past <c>length</c> must be finite
/// (zero in a fresh cache), as attention multiplies them by zero weights.
/// </summary>
public interface IKvCacheLayer
{
    /// <summary>Stores <paramref name="count"/> consecutive positions from <paramref name="position"/>: rows of numKvHeads × headDim.</summary>
    void Write(int sequence, int position, int count, ReadOnlySpan<float> keys, ReadOnlySpan<float> values);

    /// <summary>
    /// Keys of one (sequence, KV head) by position: element (j, d) at j·stride + d, for positions [0, PaddedLength(length)).
    /// The result is the cache's own memory or <paramref name="scratch"/> (PaddedLength(length) × headDim).
    /// </summary>
    ReadOnlySpan<float> ReadKeys(int sequence, int kvHead, int length, Span<float> scratch, out int stride);

    /// <summary>Values by position, as <see cref="ReadKeys"/>: element (j, d) at j·stride + d.</summary>
    ReadOnlySpan<float> ReadValues(int sequence, int kvHead, int length, Span<float> scratch, out int stride);

    /// <summary>
    /// A hint before decode attention reads a head: start fetching the first <paramref name="bytes"/> of its keys and
    /// of its values (no more than its <paramref name="length"/> positions hold), so that the heads a thread reads in
    /// turn do not each begin by waiting on memory. Nothing by default.
    /// </summary>
    void Prefetch(int sequence, int kvHead, int length, int bytes) { }

    /// <summary>Attention reads keys in blocks of 32 positions: lengths are rounded up to that.</summary>
    public static int PaddedLength(int length) => (length + 31) / 32 * 32;
}
