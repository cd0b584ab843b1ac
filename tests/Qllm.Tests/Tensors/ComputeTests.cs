using Qllm.Tensors;
using Xunit;

namespace Qllm.Tests.Tensors;

[Collection(KernelPathCollection.Name)]
public class ComputeTests
{
    [Fact]
    public void EveryIndexRunsExactlyOnce()
    {
        var hits = new int[1000];
        for (int round = 0; round < 50; round++) Compute.For(hits.Length, true, i => Interlocked.Increment(ref hits[i]));
        Assert.All(hits, h => Assert.Equal(50, h));
    }

    [Fact]
    public void ShortLoopsRunEveryIndexOnceEvenAfterTheWorkersFallAsleep()
    {
        // Decode's loops: one index per thread. Every few rounds the workers fall asleep (100 µs without a loop),
        // and the caller publishes the next loop without a fence, so it may miss waking one: the loop must still
        // run each index once.
        var hits = new int[2];
        for (int round = 0; round < 200; round++)
        {
            if (round % 20 == 0) Thread.Sleep(1);
            Compute.For(hits.Length, true, i => Interlocked.Increment(ref hits[i]));
        }
        Assert.All(hits, h => Assert.Equal(200, h));
    }

    [Fact]
    public void TheCallerRunsIndexZeroItself()
    {
        // Index 0 is the caller's without an atomic increment (WorkerPool.TryRun), so it never runs elsewhere.
        int caller = Environment.CurrentManagedThreadId, elsewhere = 0;
        for (int round = 0; round < 100; round++)
            Compute.For(4, true, i => { if (i == 0 && Environment.CurrentManagedThreadId != caller) Interlocked.Increment(ref elsewhere); });
        Assert.Equal(0, elsewhere);
        var e = Assert.ThrowsAny<Exception>(() => Compute.For(4, true, i => { if (i == 0) throw new InvalidOperationException("zero"); }));
        Assert.Contains("zero", e.ToString());
    }

    [Fact]
    public void ALoopInsideALoopStillRunsEverything()
    {
        // The inner loops find the pool busy and fall back to Parallel.For instead of deadlocking.
        int total = 0;
        Compute.For(8, true, _ => Compute.For(10, true, _ => Interlocked.Increment(ref total)));
        Assert.Equal(80, total);
    }

    [Fact]
    public void ExceptionsReachTheCaller()
    {
        var e = Assert.ThrowsAny<Exception>(() => Compute.For(16, true, i => { if (i == 5) throw new InvalidOperationException("boom"); }));
        Assert.Contains("boom", e.ToString());
        int after = 0;
        Compute.For(16, true, _ => Interlocked.Increment(ref after)); // the pool still works
        Assert.Equal(16, after);
    }
}
