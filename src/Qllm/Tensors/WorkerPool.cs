using System.Diagnostics;

namespace Qllm.Tensors;

/// <summary>
/// A fork-join pool for the kernels' short parallel loops. A decode step runs ~100 of them, each only tens of
/// microseconds long, so Parallel.For's scheduling and a sleeping thread's wake-up would cost a noticeable share.
/// Here the workers are dedicated threads that spin on a generation counter for a while after each loop (the
/// next one usually follows within microseconds) and only then sleep on an event; the caller works too, and
/// indices are handed out with one atomic increment each. One loop runs at a time: a caller that finds the
/// pool busy (another thread's loop, or a loop inside a loop) gets Parallel.For instead.
/// <para>
/// The caller never waits for a worker that has not started: once it has run out of indices it closes the loop,
/// and then waits only for the workers inside it (<see cref="_active"/>). A worker enters by counting itself
/// active and then checking that its loop is still open, so one that arrives late (still spinning down, or waking
/// from its event) finds it closed and leaves without touching the caller's state. Waiting for a late worker's
/// wake-up instead cost up to ~10 µs per loop on a virtual machine.
/// </para>
/// </summary>
internal sealed unsafe class WorkerPool
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000; // 100 µs of spinning before sleeping

    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private int _busy; // 0 or 1; not a Monitor, which would let a loop nested on the calling thread re-enter
    private int _generation;
    private int _open;   // the generation whose indices workers may still take; 0 once its caller has closed it
    private int _active; // workers inside a loop
    private delegate*<void*, int, void> _body;
    private void* _state;
    private int _count;
    private int _next;
    private Exception? _failure;

    public int Workers { get; }

    public WorkerPool(int workers)
    {
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
        try
        {
            _body = body;
            _state = state;
            _count = count;
            _next = 0;
            _failure = null;
            int generation = _generation == int.MaxValue ? 1 : _generation + 1; // never 0, which means closed
            Volatile.Write(ref _open, generation);
            Interlocked.Exchange(ref _generation, generation); // a full fence: publishes the fields above to spinning workers
            for (int w = 0; w < Workers; w++)
                if (Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();
            Drain();
            Interlocked.Exchange(ref _open, 0); // every index is taken: no worker may enter from here on
            while (Volatile.Read(ref _active) != 0) Thread.SpinWait(4);
            if (_failure != null) throw new AggregateException(_failure);
            return true;
        }
        finally
        {
            _body = null;
            _state = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    private void WorkerLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _generation) == seen && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(16);
            if (Volatile.Read(ref _generation) == seen)
            {
                // Announce the sleep, then look once more: a loop started in between either sees the flag
                // (and releases the semaphore) or is seen here.
                Interlocked.Exchange(ref _sleeping[index], 1); // a full fence: the re-read below must not move before this write
                if (Volatile.Read(ref _generation) == seen) _wake[index].Wait();
                else if (Interlocked.Exchange(ref _sleeping[index], 0) == 0) _wake[index].Wait(); // the caller released us: consume it
            }
            seen = Volatile.Read(ref _generation);
            Interlocked.Increment(ref _active); // a full fence: the check below reads _open after we count as active
            if (Volatile.Read(ref _open) == seen) Drain();
            Interlocked.Decrement(ref _active);
        }
    }

    private void Drain()
    {
        var body = _body;
        void* state = _state;
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < _count)
        {
            try { body(state, i); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
        }
    }
}
