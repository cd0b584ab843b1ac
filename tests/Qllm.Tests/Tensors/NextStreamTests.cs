using Qllm.Tensors;
using Xunit;

namespace Qllm.Tests.Tensors;

public class NextStreamTests
{
    // Addresses are only ever prefetched, so these tests use made-up ones: what is checked is the arithmetic.
    private static readonly NextStream.Part[] TwoParts = [new(1000, 100, 10), new(50000, 50, 6)];

    [Fact]
    public void Each_chunk_of_the_following_gemv_starts_where_Compute_Share_puts_it()
    {
        // 16 panels: two chunks start at panels 0 and 8 (both in the first part), three at 0, 5 and 10 (the
        // second part's first panel). The bytes are those left in the part, so a prefetch never runs past it.
        RunOnFreshThread(() =>
        {
            var first = new NextStream();
            NextStream.Follow(first, [new(7, 1, 1)], Starts([new(7, 1, 1)], 2));
            NextStream.Follow(new NextStream(), TwoParts, Starts(TwoParts, 2));
            Assert.Equal(((nint)1000, 1000L), first.Chunk(0));
            Assert.Equal(((nint)1800, 200L), first.Chunk(1));

            var second = new NextStream();
            NextStream.Follow(second, [new(7, 1, 1)], Starts([new(7, 1, 1)], 3));
            NextStream.Follow(new NextStream(), TwoParts, Starts(TwoParts, 3));
            Assert.Equal(((nint)1000, 1000L), second.Chunk(0));
            Assert.Equal(((nint)1500, 500L), second.Chunk(1));
            Assert.Equal(((nint)50000, 300L), second.Chunk(2));
            Assert.Equal(((nint)0, 0L), second.Chunk(3));
        });
    }

    [Fact]
    public void The_successor_is_the_next_gemv_forked_on_the_same_thread_only()
    {
        var link = new NextStream();
        RunOnFreshThread(() => NextStream.Follow(link, TwoParts, Starts(TwoParts, 2)));
        RunOnFreshThread(() => NextStream.Follow(new NextStream(), [new(4096, 64, 2)], Starts([new(4096, 64, 2)], 2))); // another thread's first GEMV
        Assert.Equal(((nint)0, 0L), link.Chunk(0));

        RunOnFreshThread(() =>
        {
            var a = new NextStream();
            var b = new NextStream();
            NextStream.Follow(a, TwoParts, Starts(TwoParts, 2));
            NextStream.Follow(b, [new(4096, 64, 2)], Starts([new(4096, 64, 2)], 2));
            NextStream.Follow(a, TwoParts, Starts(TwoParts, 2)); // a follows b: the decode step's loop closes
            Assert.Equal(((nint)4096, 128L), a.Chunk(0));
            Assert.Equal(((nint)4160, 64L), a.Chunk(1));
            Assert.Equal(((nint)1000, 1000L), b.Chunk(0));
        });
    }

    [Fact]
    public void A_serial_gemv_records_nothing_and_an_unknown_successor_prefetches_nothing()
    {
        RunOnFreshThread(() =>
        {
            var first = new NextStream();
            NextStream.Follow(first, TwoParts, Starts(TwoParts, 2));
            NextStream.Follow(new NextStream(), TwoParts, Starts(TwoParts, 1));
            Assert.Equal(((nint)0, 0L), first.Chunk(0));
            first.PrefetchChunk(0); // nothing known: no bytes asked for
            first.PrefetchChunk(5);
        });
    }

    [Fact]
    public unsafe void A_stale_successor_costs_a_prefetch_and_cannot_fault()
    {
        // A layer replaced after it was learned leaves the address of a freed array: prefetches never fault.
        RunOnFreshThread(() =>
        {
            var first = new NextStream();
            NextStream.Follow(first, TwoParts, Starts(TwoParts, 2));
            NextStream.Follow(new NextStream(), [new(unchecked((nint)0x10), 1 << 20, 4)], Starts([new(unchecked((nint)0x10), 1 << 20, 4)], 2));
            first.PrefetchChunk(0);
            first.PrefetchChunk(1);
        });
    }

    /// <summary>The starts of equal chunks (<see cref="Compute.Share"/>) of the parts' panels, as a GEMV's plan gives them before it learns.</summary>
    private static int[] Starts(NextStream.Part[] parts, int chunks) =>
        Enumerable.Range(0, chunks).Select(c => Compute.Share(parts.Sum(p => p.Panels), c, chunks).Start).ToArray();

    /// <summary>The successor is per thread (thread-static), so each case starts from a thread with no GEMV before.</summary>
    private static void RunOnFreshThread(Action body)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        if (failure != null) throw new Xunit.Sdk.XunitException(failure.ToString());
    }
}
