namespace Qllm.Tensors;

/// <summary>
/// Reads that only bring data into the cache before a decode block needs it (<c>ILinear.WarmMetadata</c>,
/// <c>IDecoderBlock.WarmSmallObjects</c>, in <c>CausalLanguageModel</c>). By a block's turn in a decode step the earlier blocks' weights have
/// pushed its small objects out of every cache; read together first, their misses overlap instead of stalling
/// the step one after another.
/// </summary>
public static class CacheWarming
{
    private static float _sink;

    /// <summary>Reads one value in each 64-byte line of <paramref name="values"/>.</summary>
    public static void Touch(ReadOnlySpan<float> values)
    {
        float sum = 0;
        for (int i = 0; i < values.Length; i += 16) sum += values[i];
        Keep(sum);
    }

    /// <summary>Stores a value derived from warming reads, so that the JIT cannot drop them as unused.</summary>
    public static void Keep(float value) => _sink = value;
}
