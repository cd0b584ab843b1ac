using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qllm.Tensors;

/// <summary>
/// Splits a streaming loop's range (a decode GEMV's panels) into one chunk per thread so that the threads finish
/// together, learning from when they did: a chunk that finished early gets a little more of the next call, one that
/// finished late a little less.
/// </summary>
/// <remarks>
/// Equal chunks do not finish together. The worker starts ~0.6 µs after the caller forks; the two cores need not
/// stream equally fast (on this machine's slower core pairings the caller's chunk of a W4 decode GEMV took 21.5 µs
/// and the worker's 19.6); and the caller cannot go on until the last one is done. W4 110M decode measured a join
/// wait of 1.4 µs on each of its ~50 GEMVs a token, most of it this systematic difference. Learning the split made it
/// a median 2.6% and 3.1% faster (36 rounds each, in turns in one process), fp32 decode unchanged (±0.2%).
/// <para>
/// The update is a sign step: each chunk's weight moves by <see cref="Step"/> towards the mean finish time, so it
/// settles within a few dozen calls and then dithers by at most a panel. Finish times are read from one
/// system-wide monotonic clock (<see cref="Stopwatch"/>), written by each thread into its own cache line, and read
/// by the caller after the join. Each weight that starts a GEMV holds its own (PackedMatrix, LowBitPanels): its
/// size and its fixed costs are its own.
/// </para>
/// </remarks>
public sealed class StreamBalance
{
    /// <summary>Relative change of a chunk's weight per call.</summary>
    private const double Step = 0.004;

    /// <summary>No chunk's weight leaves [1/4, 4] × the equal share, whatever the clocks say.</summary>
    private const double Floor = 0.25, Ceiling = 4;

    /// <summary>Longs between two chunks' finish times: 128 bytes, so no two threads write one line (or its pair).</summary>
    private const int Stride = 16;

    private double[] _weights = [];
    private long[] _finished = [];

    /// <summary>
    /// Fills <paramref name="boundaries"/> (chunks + 1 entries) with the chunks' starts in [0, count) and the end,
    /// as learned; equal (<see cref="Compute.Share"/>) for a new chunk count. Called by the forking thread before it
    /// forks: the chunks run on these boundaries even if another thread's <see cref="Learn"/> moves the weights meanwhile.
    /// </summary>
    public void Split(int count, Span<int> boundaries)
    {
        int chunks = boundaries.Length - 1;
        var weights = _weights;
        if (weights.Length != chunks)
        {
            _finished = new long[chunks * Stride];
            var equal = new double[chunks];
            Array.Fill(equal, 1.0);
            _weights = equal;
            for (int c = 0; c < chunks; c++) boundaries[c] = Compute.Share(count, c, chunks).Start;
            boundaries[chunks] = count;
            return;
        }
        Span<double> read = stackalloc double[chunks];
        double total = 0;
        for (int c = 0; c < chunks; c++) total += read[c] = weights[c];
        double before = 0;
        for (int c = 0; c < chunks; c++)
        {
            boundaries[c] = (int)Math.Round(count * before / total);
            before += read[c];
        }
        boundaries[chunks] = count;
    }

    /// <summary>Sets the chunks' weights (tests: a learned split, without waiting for one).</summary>
    internal void Weigh(params double[] weights)
    {
        _finished = new long[weights.Length * Stride];
        _weights = (double[])weights.Clone();
    }

    /// <summary>Called by the thread that ran <paramref name="chunk"/>, as it finishes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finished(int chunk)
    {
        var finished = _finished;
        if ((long)chunk * Stride < finished.Length) finished[chunk * Stride] = Stopwatch.GetTimestamp();
    }

    /// <summary>Moves the weights after a call whose chunks all reported <see cref="Finished"/>; called by the forking thread after the join.</summary>
    public void Learn()
    {
        var weights = _weights;
        var finished = _finished;
        int chunks = weights.Length;
        if (chunks < 2 || finished.Length < chunks * Stride) return;
        double mean = 0;
        for (int c = 0; c < chunks; c++) mean += finished[c * Stride];
        mean /= chunks;
        for (int c = 0; c < chunks; c++)
        {
            double moved = weights[c] * (finished[c * Stride] < mean ? 1 + Step : 1 - Step);
            weights[c] = Math.Clamp(moved, Floor, Ceiling);
        }
    }
}

/// <summary>
/// One call's split of a stream into chunks, one per thread: fixed by the forking thread before it forks (as its
/// <see cref="StreamBalance"/> has learned, or equal), then read by every chunk.
/// </summary>
internal struct ChunkPlan
{
    /// <summary>Up to this many chunks the split is learned; past it, equal (<see cref="Compute.Share"/>).</summary>
    public const int MaxBalanced = 16;

    [InlineArray(MaxBalanced + 1)] private struct Bounds { private int _first; }

    private Bounds _bounds;
    private StreamBalance? _balance; // null: equal chunks
    private int _count;

    public int Chunks { get; private set; }

    /// <summary>Splits [0, count) into <paramref name="chunks"/> chunks with <paramref name="balance"/>'s weights, or equally if null.</summary>
    public void Plan(StreamBalance? balance, int count, int chunks)
    {
        _count = count;
        Chunks = chunks;
        _balance = chunks > 1 && chunks <= MaxBalanced ? balance : null;
        _balance?.Split(count, MemoryMarshal.CreateSpan(ref _bounds[0], chunks + 1));
    }

    /// <summary>Chunk c's range [First, Last).</summary>
    public readonly (int First, int Last) this[int chunk] =>
        _balance != null ? (_bounds[chunk], _bounds[chunk + 1]) : Compute.Share(_count, chunk, Chunks);

    /// <summary>Every chunk's first index, in <paramref name="starts"/> (Chunks entries).</summary>
    public readonly ReadOnlySpan<int> Starts(Span<int> starts)
    {
        for (int c = 0; c < Chunks; c++) starts[c] = this[c].First;
        return starts[..Chunks];
    }

    /// <summary>Called by the thread that ran the chunk, as it finishes it.</summary>
    public readonly void Finished(int chunk) => _balance?.Finished(chunk);

    /// <summary>Called by the forking thread after the join.</summary>
    public readonly void Learn() => _balance?.Learn();
}
