namespace Qllm.Tensors;

/// <summary>
/// Process-wide compute settings: how many threads the kernels may use.
/// The CLI's <c>--threads</c> sets it; the default is every core.
/// </summary>
public static class Compute
{
    private static int _threads = Environment.ProcessorCount;
    private static WorkerPool? _pool;

    public static int Threads
    {
        get => _threads;
        set => _threads = value < 1 ? Environment.ProcessorCount : value;
    }

    /// <summary><see cref="For(int, bool, Action{int})"/> over a struct body, without allocating: for kernels called per token.</summary>
    internal static void For<TBody>(int count, bool parallel, in TBody body) where TBody : struct, ILoopBody
    {
        if (!parallel || count <= 1 || _threads <= 1)
        {
            var local = body;
            for (int i = 0; i < count; i++) local.Run(i);
            return;
        }
        var runner = LoopRunner<TBody>.Rent(body);
        try { For(count, parallel, runner.Invoke); }
        finally { LoopRunner<TBody>.Return(runner); }
    }

    /// <summary>Runs body(i) for i in [0, count), in parallel when the work is worth a fork.</summary>
    public static void For(int count, bool parallel, Action<int> body)
    {
        if (!parallel || count <= 1 || _threads <= 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        var pool = _pool;
        if (pool is null || pool.Workers != _threads - 1)
            pool = _pool = new WorkerPool(_threads - 1); // the old pool's threads idle blocked; thread counts rarely change
        if (!pool.TryRun(count, body))
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, body);
    }
}
