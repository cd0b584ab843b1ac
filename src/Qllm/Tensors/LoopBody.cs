namespace Qllm.Tensors;

/// <summary>
/// A parallel loop's body as a struct (a kernel's job: pointers and sizes). <see cref="Compute.For{TBody}"/> runs
/// it through a delegate cached per thread and body type, so a kernel call allocates no closure.
/// </summary>
internal interface ILoopBody
{
    void Run(int index);
}

/// <summary>The cached delegate over a body: one per (thread, body type), lent for the length of one loop.</summary>
internal sealed class LoopRunner<TBody> where TBody : struct, ILoopBody
{
    [ThreadStatic] private static LoopRunner<TBody>? _cached;

    private TBody _body;

    public Action<int> Invoke { get; }

    private LoopRunner() => Invoke = index => _body.Run(index);

    /// <summary>The thread's runner, or a new one while it is lent out (a loop started inside the same loop body type).</summary>
    public static LoopRunner<TBody> Rent(in TBody body)
    {
        var runner = _cached ?? new LoopRunner<TBody>();
        _cached = null;
        runner._body = body; // workers see it: the pool publishes the loop with an interlocked increment
        return runner;
    }

    /// <summary>Back to the thread's cache, without the body (whose pointers are only valid during the loop).</summary>
    public static void Return(LoopRunner<TBody> runner)
    {
        runner._body = default;
        _cached = runner;
    }
}
