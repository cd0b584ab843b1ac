using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Qllm.Tensors;

/// <summary>
/// A fork-join pool for the kernels' short parallel loops. A decode step runs ~100 of them, each only tens of
/// microseconds long, so Parallel.For's scheduling and a sleeping thread's wake-up would cost a noticeable share.
/// Here the workers are dedicated threads that spin on a generation counter for a while after each loop (the
/// next one usually follows within microseconds) and only then sleep on an event; the caller works too, starting
/// with index 0, and the other indices are handed out with one atomic increment each. One loop runs at a time: a
/// caller that finds the pool busy (another thread's loop, or a loop inside a loop) gets Parallel.For instead.
/// <para>
/// The caller never waits for a worker that has not started: once it has run out of indices it closes the loop,
/// and then waits only for the workers inside it (<see cref="Shared.Active"/>). A worker enters by counting itself
/// active and then checking that its loop is still open, so one that arrives late (still spinning down, or waking
/// from its event) finds it closed and leaves without touching the caller's state. Waiting for a late worker's
/// wake-up instead cost up to ~10 µs per loop on a virtual machine.
/// </para>
/// </summary>
internal sealed unsafe class WorkerPool
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000; // 100 µs of spinning before sleeping

    /// <summary>
    /// The fields the caller and the workers share, each group on its own cache lines (<see cref="Shared"/>), in
    /// native memory aligned to them; the pool lives as long as the process, so it is never freed.
    /// </summary>
    private readonly Shared* _shared = (Shared*)NativeMemory.AlignedAlloc((nuint)sizeof(Shared), Shared.Alignment);
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private int _busy; // 0 or 1; not a Monitor, which would let a loop nested on the calling thread re-enter
    private Exception? _failure;

    public int Workers { get; }

    public WorkerPool(int workers)
    {
        *_shared = default;
        Workers = workers;
        _wake = new SemaphoreSlim[workers];
        _sleeping = new int[workers];
        for (int w = 0; w < workers; w++)
        {
            _wake[w] = new SemaphoreSlim(0);
            int index = w;
            new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"qllm-compute-{w + 1}" }.Start();
        }
    }

    /// <summary>Runs body(state, i) for i in [0, count) on the workers and the caller; false if the pool was busy.</summary>
    public bool TryRun(int count, delegate*<void*, int, void> body, void* state)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        var shared = _shared;
        try
        {
            shared->Body = body;
            shared->State = state;
            shared->Count = count;
            shared->Next = 1; // index 0 is the caller's, taken without an atomic (see below)
            if (_failure != null) _failure = null;
            int generation = shared->Generation == int.MaxValue ? 1 : shared->Generation + 1; // never 0, which means closed
            // Published with plain (release) stores, not a locked exchange: x86 keeps stores in order, and a locked
            // instruction would wait here until the other core gave up the line it is spinning on, a cross-core
            // round trip. So would a first atomic increment of Next, on the line a worker took last. With index 0
            // reserved and no fence before it, the caller starts working at once and pays for those transfers, if
            // at all, at the end of its index. W4 110M decode ran a median 3.9% faster (22 rounds in turns).
            Volatile.Write(ref shared->Open, generation);
            Volatile.Write(ref shared->Generation, generation);
            // Without a fence this read may miss a worker that is just falling asleep (Dekker's case: each side
            // writes, then reads the other's flag). That worker then sleeps through this loop, which the caller
            // finishes alone, and the next loop sees its flag and wakes it.
            for (int w = 0; w < Workers; w++)
                if (Volatile.Read(ref _sleeping[w]) == 1 && Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();
            if (count > 0) Run(body, state, 0);
            Drain();
            Interlocked.Exchange(ref shared->Open, 0); // every index is taken: no worker may enter from here on
            while (Volatile.Read(ref shared->Active) != 0) Thread.SpinWait(1);
            if (_failure != null) throw new AggregateException(_failure);
            return true;
        }
        finally
        {
            // Body and State stay as they are: a worker reads them only inside an open loop, and clearing them
            // would take the line from a worker spinning on it once more per loop.
            Volatile.Write(ref _busy, 0);
        }
    }

    private void WorkerLoop(int index)
    {
        var shared = _shared;
        int seen = 0;
        while (true)
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            // One pause between looks: .NET normalizes a SpinWait iteration to tens of nanoseconds, so the 16 this
            // once took made a worker see each new loop a fraction of a microsecond late, ~50 loops a token (W4 110M
            // decode ran a median 4.6% faster with 1, here and in the caller's join, 20 rounds in turns in one
            // process). Looking again at a line that has not changed stays inside this core's cache.
            while (Volatile.Read(ref shared->Generation) == seen && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(1);
            if (Volatile.Read(ref shared->Generation) == seen)
            {
                // Announce the sleep, then look once more: a loop started in between either sees the flag
                // (and releases the semaphore) or is seen here.
                Interlocked.Exchange(ref _sleeping[index], 1); // a full fence: the re-read below must not move before this write
                if (Volatile.Read(ref shared->Generation) == seen) _wake[index].Wait();
                else if (Interlocked.Exchange(ref _sleeping[index], 0) == 0) _wake[index].Wait(); // the caller released us: consume it
            }
            seen = Volatile.Read(ref shared->Generation);
            Interlocked.Increment(ref shared->Active); // a full fence: the check below reads Open after we count as active
            if (Volatile.Read(ref shared->Open) == seen) Drain();
            Interlocked.Decrement(ref shared->Active);
        }
    }

    private void Drain()
    {
        var shared = _shared;
        var body = shared->Body;
        void* state = shared->State;
        int count = shared->Count, i;
        while ((i = Interlocked.Increment(ref shared->Next) - 1) < count) Run(body, state, i);
    }

    private void Run(delegate*<void*, int, void> body, void* state, int index)
    {
        try { body(state, index); }
        catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
    }

    /// <summary>
    /// What the caller publishes for a loop (read by every worker that enters it, so one line brings all of it),
    /// the index counter (taken by every thread in turn) and the count of workers inside: three groups on lines of
    /// their own, 128 bytes apart because the adjacent-line prefetcher moves lines in pairs. Sharing one line, as
    /// the class's own fields did, made every write of the caller's and every index taken steal the line from a
    /// worker spinning on the generation, one cross-core transfer each.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 3 * Alignment)]
    private struct Shared
    {
        public const int Alignment = 128;

        [FieldOffset(0)] public int Generation;
        [FieldOffset(4)] public int Open; // the generation whose indices workers may still take; 0 once its caller has closed it
        [FieldOffset(8)] public int Count;
        [FieldOffset(16)] public delegate*<void*, int, void> Body;
        [FieldOffset(24)] public void* State;
        [FieldOffset(Alignment)] public int Next;
        [FieldOffset(2 * Alignment)] public int Active; // workers inside a loop
    }
}
