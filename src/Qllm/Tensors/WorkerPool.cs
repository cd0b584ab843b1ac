namespace Qllm.Tensors;

/// <summary>
/// A fork-join pool for the kernels' short parallel loops. A decode step runs ~100 of them, each only tens of
/// microseconds long, where Parallel.For's scheduling and wake-up cost a noticeable share. Here the workers
/// are dedicated threads that spin briefly (ManualResetEventSlim's spin phase) before blocking, the caller
/// works too, and indices are handed out with one atomic increment each. One loop runs at a time; a caller
/// that finds the pool busy (another thread's loop, or a loop inside a loop) gets Parallel.For instead.
/// </summary>
internal sealed class WorkerPool
{
    private int _busy; // 0 or 1; not a Monitor, which would let a loop nested on the calling thread re-enter
    private readonly ManualResetEventSlim[] _start;
    private readonly CountdownEvent _done;
    private Action<int>? _body;
    private int _count;
    private int _next;
    private Exception? _failure;

    public int Workers { get; }

    public WorkerPool(int workers)
    {
        Workers = workers;
        _start = new ManualResetEventSlim[workers];
        _done = new CountdownEvent(workers);
        for (int w = 0; w < workers; w++)
        {
            _start[w] = new ManualResetEventSlim(false, spinCount: 2000);
            int index = w;
            new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"qllm-compute-{w + 1}" }.Start();
        }
    }

    /// <summary>Runs body(i) for i in [0, count) on the workers and the caller; false if the pool was busy.</summary>
    public bool TryRun(int count, Action<int> body)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            _body = body;
            _count = count;
            _next = 0;
            _failure = null;
            _done.Reset(Workers);
            foreach (var start in _start) start.Set();
            Drain();
            _done.Wait();
            if (_failure != null) throw new AggregateException(_failure);
            return true;
        }
        finally
        {
            _body = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    private void WorkerLoop(int index)
    {
        while (true)
        {
            _start[index].Wait();
            _start[index].Reset();
            Drain();
            _done.Signal();
        }
    }

    private void Drain()
    {
        var body = _body!;
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < _count)
        {
            try { body(i); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
        }
    }
}
