namespace Qllm.Tensors;

/// <summary>
/// Per-thread working buffers for kernels that run at every decode step (attention's tiles, the packed GEMV's
/// prepared input), on the pool's threads and the caller's. ArrayPool would also do, but it trims idle arrays
/// after garbage collections and then allocates again; these stay for the thread's life, grown to the next power of two when a larger one is asked for.
/// Each call site uses its own slot, so buffers held at the same time never alias.
/// </summary>
internal static class ThreadScratch
{
    public const int Slots = 5;

    /// <summary>Slots 0–2 and 4 are attention's; this one holds a packed low-bit GEMV's prepared input (<c>PreparedInput</c>).</summary>
    public const int GemvInputSlot = 3;

    /// <summary>Attention's keys transposed for the tiled (prefill) path.</summary>
    public const int TransposedKeysSlot = 4;

    [ThreadStatic] private static float[]?[]? _buffers;

    public static float[] Get(int slot, int length)
    {
        var buffers = _buffers ??= new float[]?[Slots];
        var buffer = buffers[slot];
        if (buffer is null || buffer.Length < length)
            buffers[slot] = buffer = new float[(int)Math.Min(Array.MaxLength, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 64)))];
        return buffer;
    }
}
