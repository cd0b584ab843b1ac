using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Models;

/// <summary>Invariant: incremental decoding with a KV cache computes exactly what a full recomputation computes.</summary>
public class KvCacheDecodingTests
{
    private static readonly int[] Tokens = [1, 403, 407, 261, 378, 429, 324, 267, 300, 425, 330, 301, 345, 261, 502, 290];

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(15)]
    public void Stories260KDecodingEqualsRecomputation(int prefill) =>
        ModelAssert.DecodingMatchesRecomputation(SharedModels.Stories260K, Tokens, prefill);

    [Fact]
    public void ABatchComputesWhatEachSequenceComputesAlone()
    {
        var model = SharedModels.Stories260K;
        int[] a = Tokens[..8], b = Tokens[8..];
        float[] batch = model.Forward([.. a, .. b], 2, 8);
        float[] alone = [.. model.Forward(a, 1, 8), .. model.Forward(b, 1, 8)];
        ModelAssert.Close(alone, batch, 1e-6);
    }

    [Fact]
    public void ABatchRunsOnTheFirstSequencesOfALargerCacheAndNotOnASmallerOne()
    {
        // The scorer keeps one cache for its largest batch; a smaller batch must compute what its own cache gives,
        // even over stale positions a previous, larger batch left in the other sequences.
        var model = SharedModels.Stories260K;
        var large = model.CreateKvCache(3, 32);
        model.ForwardHidden([.. Tokens, .. Tokens, .. Tokens], 3, 16, large);
        large.Reset();
        float[] reused = model.ForwardHidden(Tokens[..8], 1, 8, large);
        float[] own = model.ForwardHidden(Tokens[..8], 1, 8, model.CreateKvCache(1, 8));
        Assert.Equal(own, reused);
        var e = Assert.Throws<ArgumentException>(() => model.ForwardHidden(new int[8], 4, 2, large));
        Assert.Contains("3 sequences", e.Message);
    }

    [Fact]
    public void PositionsPastTheModelMaximumAreRefused()
    {
        var model = SharedModels.Stories260K;
        var e = Assert.Throws<Qllm.Common.QllmException>(() => model.Forward(new int[model.Config.MaxPositions + 1], 1, model.Config.MaxPositions + 1));
        Assert.Contains("maximum", e.Message);
    }
}
