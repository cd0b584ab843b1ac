using System.Runtime.Intrinsics.X86;

namespace Qllm.Tensors;

/// <summary>
/// Reads and prefetches that only bring data into the cache before a decode step needs it: a block's small objects
/// (<c>ILinear.WarmMetadata</c>, <c>IDecoderBlock.WarmSmallObjects</c>, in <c>CausalLanguageModel</c>), which the
/// earlier blocks' weights have pushed out of every cache, and the starts of attention's streams (a head's keys and
/// values). Asked for together first, their misses overlap instead of stalling the step in turn.
/// </summary>
public static unsafe class CacheWarming
{
    private const int LineBytes = 64;

    private static float _sink;

    /// <summary>Reads one value in each 64-byte line of <paramref name="values"/>.</summary>
    public static void Touch(ReadOnlySpan<float> values)
    {
        float sum = 0;
        for (int i = 0; i < values.Length; i += LineBytes / sizeof(float)) sum += values[i];
        Keep(sum);
    }

    /// <summary>Asks L2 for every 64-byte line of [start, start + bytes); prefetches never fault.</summary>
    public static void Prefetch(void* start, long bytes)
    {
        if (!Sse.IsSupported) return;
        for (long at = 0; at < bytes; at += LineBytes) Sse.Prefetch1((byte*)start + at);
    }

    /// <summary>Stores a value derived from warming reads, so that the JIT cannot drop them as unused.</summary>
    public static void Keep(float value) => _sink = value;
}
