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

/// <summary>One layer's keys and values, for every sequence and KV head.</summary>
public interface IKvCacheLayer
{
    /// <summary>Stores one token's keys and values (each numKvHeads × headDim) at a position.</summary>
    void Write(int sequence, int position, ReadOnlySpan<float> keys, ReadOnlySpan<float> values);

    /// <summary>
    /// Keys of one (sequence, KV head) for positions [0, length), transposed: element (d, j) lies at
    /// d·stride + j. Transposed storage lets attention vectorise over positions even for tiny heads.
    /// The result is either the cache's own memory or <paramref name="scratch"/> (headDim × length).
    /// </summary>
    ReadOnlySpan<float> ReadKeys(int sequence, int kvHead, int length, Span<float> scratch, out int stride);

    /// <summary>Values, laid out like <see cref="ReadKeys"/>.</summary>
    ReadOnlySpan<float> ReadValues(int sequence, int kvHead, int length, Span<float> scratch, out int stride);
}
