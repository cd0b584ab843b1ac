using Qllm.Models;
using Xunit;

namespace Qllm.Tests.Support;

/// <summary>Numerical comparisons and model invariants shared by the tests.</summary>
public static class ModelAssert
{
    /// <summary>Every element within <paramref name="relative"/> × the largest |expected| value.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (float e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * Math.Max(scale, 1e-6),
                $"element {i}: expected {expected[i]}, got {actual[i]} (scale {scale})");
    }

    /// <summary>Invariant: prefill then one token at a time through a KV cache gives the logits of one full pass.</summary>
    public static void DecodingMatchesRecomputation(CausalLanguageModel model, int[] tokens, int prefill)
    {
        int vocab = model.Config.VocabSize;
        float[] full = model.Forward(tokens, 1, tokens.Length);
        var cache = model.CreateKvCache(1, tokens.Length);
        Close(full.AsSpan(0, prefill * vocab), model.Forward(tokens.AsSpan(0, prefill), 1, prefill, cache));
        for (int t = prefill; t < tokens.Length; t++)
            Close(full.AsSpan(t * vocab, vocab), model.Forward(tokens.AsSpan(t, 1), 1, 1, cache));
        Assert.Equal(tokens.Length, cache.Length);
    }
}
