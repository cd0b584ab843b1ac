using System.Runtime.CompilerServices;

namespace Qllm.Tensors;

/// <summary>
/// Where the decode GEMV that followed a given one on the same calling thread starts, chunk by chunk, so that each
/// thread can ask for the start of its next chunk while it finishes the current one.
/// </summary>
/// <remarks>
/// A decode step is a fixed sequence of GEMVs (q/k/v, o, gate/up, down, … the head), and chunk i of every GEMV runs
/// on the same thread (<see cref="Compute.StreamChunks"/>: one chunk per thread, the caller's first; its bounds are
/// the ones the GEMV chose for this call, <see cref="StreamBalance"/>). Between two
/// GEMVs the threads join, the caller runs the norm or the attention, forks again, and each thread prepares its
/// input: the first lines of its next chunk then arrive only after a full DRAM latency, with nothing else in flight.
/// Asked for during the last part of the previous chunk, when that chunk's own stream has all been requested, they
/// arrive meanwhile.
/// <para>
/// The successor is learned: each GEMV tells the one before it on its thread where it starts (<see cref="Follow"/>),
/// so from the second token on every GEMV knows the next. Only raw addresses of pinned arrays are kept, never the
/// arrays, so a stale entry (a layer replaced, another model run between) costs one useless prefetch, which cannot
/// fault, and keeps nothing alive.
/// </para>
/// </remarks>
public sealed unsafe class NextStream
{
    /// <summary>
    /// Bytes asked for at the start of the next chunk: as far as the low-bit kernel prefetches ahead of itself, so
    /// its own prefetches continue right where these end. W4 110M decode, in turns in one process: 16 KB ran a
    /// median 4.0% faster than none, 32 KB 4.5%, 64 KB 2.3%.
    /// </summary>
    public const int Bytes = Kernels.LowBit4VnniEmitter.PrefetchBytes;

    /// <summary>One part of a GEMV's range of panels: a pinned array's first panel, the bytes of one panel, and the panel count.</summary>
    public readonly record struct Part(nint First, long PanelBytes, int Panels);

    [ThreadStatic] private static NextStream? t_previous;

    private nint[] _starts = [];
    private long[] _lengths = [];

    /// <summary>
    /// Called by the thread that forks a decode GEMV, before it forks: records where its chunks start
    /// (<paramref name="chunkStarts"/>, panels of the stream made of <paramref name="parts"/>) as the successor of the
    /// previous GEMV this thread forked, then makes <paramref name="self"/> (the GEMV's own link, kept on its first
    /// weight) that previous one. Allocates only when the chunk count changes.
    /// </summary>
    public static void Follow(NextStream self, ReadOnlySpan<Part> parts, ReadOnlySpan<int> chunkStarts)
    {
        var previous = t_previous;
        t_previous = self;
        int chunks = chunkStarts.Length;
        if (previous == null || chunks <= 1) return;
        if (previous._starts.Length != chunks)
        {
            previous._starts = new nint[chunks];
            previous._lengths = new long[chunks];
        }
        for (int chunk = 0; chunk < chunks; chunk++)
            (previous._starts[chunk], previous._lengths[chunk]) = Locate(parts, chunkStarts[chunk]);
    }

    /// <summary>Where panel <paramref name="panel"/> of the stream made of <paramref name="parts"/> starts, and the bytes from there to its part's end.</summary>
    public static (nint Start, long Bytes) Locate(ReadOnlySpan<Part> parts, int panel)
    {
        int i = 0;
        while (i < parts.Length - 1 && panel >= parts[i].Panels) panel -= parts[i++].Panels;
        return (parts[i].First + (nint)(panel * parts[i].PanelBytes), Math.Max(0, parts[i].Panels - panel) * parts[i].PanelBytes);
    }

    /// <summary>Where chunk <paramref name="chunk"/> of the GEMV that last followed this one starts, and the bytes to its part's end; (0, 0) if unknown.</summary>
    internal (nint Start, long Bytes) Chunk(int chunk)
    {
        var starts = _starts;
        var lengths = _lengths;
        return chunk < starts.Length && chunk < lengths.Length ? (starts[chunk], lengths[chunk]) : (0, 0);
    }

    /// <summary>Asks L2 for the first <see cref="Bytes"/> of chunk <paramref name="chunk"/> of the GEMV that last followed this one.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void PrefetchChunk(int chunk)
    {
        var (start, bytes) = Chunk(chunk);
        CacheWarming.Prefetch((void*)start, Math.Min(Bytes, bytes));
    }
}
