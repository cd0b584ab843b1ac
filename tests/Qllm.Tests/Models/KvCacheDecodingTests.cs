using Qllm.Models;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Models;

/// <summary>Invariant: incremental decoding with a KV cache computes exactly what a full recomputation computes.</summary>
public class KvCacheDecodingTests
{
    private static readonly int[] Tokens = [1, 403, 407, 261, 378, 429, 324, 267, 300, 425, 330, 301, 345, 261, 502, 290];

    public static void AssertDecodingMatchesRecomputation(CausalLanguageModel model, int[] tokens, int prefill)
    {
        int vocab = model.Config.VocabSize;
        float[] full = model.Forward(tokens, 1, tokens.Length);

        var cache = model.CreateKvCache(1, tokens.Length);
        float[] first = model.Forward(tokens.AsSpan(0, prefill), 1, prefill, cache);
        AssertClose(full.AsSpan(0, prefill * vocab), first);
        for (int t = prefill; t < tokens.Length; t++)
        {
            float[] step = model.Forward(tokens.AsSpan(t, 1), 1, 1, cache);
            AssertClose(full.AsSpan(t * vocab, vocab), step);
        }
        Assert.Equal(tokens.Length, cache.Length);
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (float e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * Math.Max(scale, 1e-6),
                $"element {i}: expected {expected[i]}, got {actual[i]} (scale {scale})");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(15)]
    public void Stories260KDecodingEqualsRecomputation(int prefill) =>
        AssertDecodingMatchesRecomputation(SharedModels.Stories260K, Tokens, prefill);

    [Fact]
    public void ABatchComputesWhatEachSequenceComputesAlone()
    {
        var model = SharedModels.Stories260K;
        int[] a = Tokens[..8], b = Tokens[8..];
        float[] batch = model.Forward([.. a, .. b], 2, 8);
        float[] alone = [.. model.Forward(a, 1, 8), .. model.Forward(b, 1, 8)];
        AssertClose(alone, batch, 1e-6);
    }

    [Fact]
    public void PositionsPastTheModelMaximumAreRefused()
    {
        var model = SharedModels.Stories260K;
        var e = Assert.Throws<Qllm.Common.QllmException>(() => model.Forward(new int[model.Config.MaxPositions + 1], 1, model.Config.MaxPositions + 1));
        Assert.Contains("maximum", e.Message);
    }
}
