using System.Runtime.CompilerServices;

namespace Qllm.Tensors;

/// <summary>The body of a parallel loop as a struct, so that starting the loop allocates nothing (a lambda's closure would, once per call).</summary>
public interface IParallelBody
{
    void Run(int index);
}

/// <summary>
/// Process-wide compute settings: how many threads the kernels may use.
/// The CLI's <c>--threads</c> sets it; the default is every core.
/// </summary>
public static unsafe class Compute
{
    private static int _threads = Environment.ProcessorCount;
    private static WorkerPool? _pool;

    public static int Threads
    {
        get => _threads;
        set => _threads = value < 1 ? Environment.ProcessorCount : value;
    }

    /// <summary>Runs body(i) for i in [0, count), in parallel when the work is worth a fork.</summary>
    public static void For(int count, bool parallel, Action<int> body)
    {
        var wrapped = new ActionBody(body);
        For(count, parallel, ref wrapped);
    }

    /// <summary>
    /// How many chunks a decode GEMV splits its weight panels into: one contiguous run per thread. Each run is then
    /// a single sequential stream that the hardware and the kernels' software prefetches follow from start to end;
    /// every extra chunk boundary restarts a stream at DRAM latency. On the W4 110M decode step (2 cores), 4 chunks
    /// a thread took ~10% more time in the linear layers than 1, and 8 chunks ~20% more, in turns in one process;
    /// fp32 decode, bound by bandwidth, ran ~2% faster with 1 (115 vs 113 tokens/s, medians of 10 rounds in turns).
    /// The cost is balance: a thread that falls behind gets no help from the other, which equal chunks rarely need.
    /// </summary>
    public static int StreamChunks(int panels) => Math.Min(panels, _threads);

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> near-equal consecutive ranges of [0, count): its start and end.</summary>
    public static (int Start, int End) Share(int count, int part, int parts) =>
        ((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));

    /// <summary>
    /// Runs body.Run(i) for i in [0, count), in parallel when the work is worth a fork. The workers read the body
    /// through a pointer to the caller's copy, which stays alive on its stack until every index is done; this is
    /// what the kernels call per token, allocation-free.
    /// </summary>
    public static void For<TBody>(int count, bool parallel, ref TBody body) where TBody : struct, IParallelBody
    {
        if (!parallel || count <= 1 || _threads <= 1)
        {
            for (int i = 0; i < count; i++) body.Run(i);
            return;
        }
        var pool = _pool;
        if (pool is null || pool.Workers != _threads - 1)
            pool = _pool = new WorkerPool(_threads - 1); // the old pool's threads idle blocked; thread counts rarely change
        if (!pool.TryRun(count, &Invoke<TBody>, Unsafe.AsPointer(ref body)))
        {
            // Busy pool (a loop inside a loop, or another thread's loop): Parallel.For, which needs a boxed copy.
            IParallelBody boxed = body;
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, boxed.Run);
        }
    }

    private static void Invoke<TBody>(void* body, int index) where TBody : struct, IParallelBody => Unsafe.AsRef<TBody>(body).Run(index);

    private readonly struct ActionBody(Action<int> action) : IParallelBody
    {
        public void Run(int index) => action(index);
    }
}
