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
