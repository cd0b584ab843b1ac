using Qllm.Tensors;

namespace Qllm.Generation;

/// <summary>
/// Next-token sampling with llama2.c run.c's semantics, so a seed gives the same text as run.c:
/// temperature 0 is greedy argmax (the first maximum); otherwise softmax(logits / T), then nucleus
/// (top-p) sampling with run.c's prefilter (drop p &lt; (1 − top_p)/(n − 1)) or plain multinomial
/// when top_p ∉ (0, 1). Randomness is run.c's xorshift* generator.
/// </summary>
public sealed class Sampler(float temperature, float topP, ulong seed)
{
    private ulong _state = seed == 0 ? 1 : seed;
    private (float Probability, int Index)[] _candidates = [];

    public float Temperature { get; } = temperature;
    public float TopP { get; } = topP;

    /// <summary>Picks the next token; <paramref name="logits"/> is overwritten with probabilities when sampling.</summary>
    public int Sample(Span<float> logits)
    {
        if (Temperature == 0f) return ArgMax(logits);
        for (int i = 0; i < logits.Length; i++) logits[i] /= Temperature;
        Elementwise.Softmax(logits);
        float coin = NextFloat();
        return TopP <= 0f || TopP >= 1f ? SampleMultinomial(logits, coin) : SampleTopP(logits, coin);
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private static int SampleMultinomial(ReadOnlySpan<float> probabilities, float coin)
    {
        float cdf = 0f;
        for (int i = 0; i < probabilities.Length; i++)
        {
            cdf += probabilities[i];
            if (coin < cdf) return i;
        }
        return probabilities.Length - 1; // rounding
    }

    private int SampleTopP(ReadOnlySpan<float> probabilities, float coin)
    {
        int n = probabilities.Length;
        if (_candidates.Length < n) _candidates = new (float, int)[n];
        // Tokens below this cannot be in the nucleus (run.c's shortcut, kept for identical results).
        float cutoff = (1f - TopP) / (n - 1);
        int count = 0;
        for (int i = 0; i < n; i++)
            if (probabilities[i] >= cutoff) _candidates[count++] = (probabilities[i], i);
        var candidates = _candidates.AsSpan(0, count);
        candidates.Sort(static (a, b) => b.Probability.CompareTo(a.Probability) is var c && c != 0 ? c : a.Index.CompareTo(b.Index));

        float cumulative = 0f;
        int last = count - 1;
        for (int i = 0; i < count; i++)
        {
            cumulative += candidates[i].Probability;
            if (cumulative > TopP) { last = i; break; }
        }
        float r = coin * cumulative, cdf = 0f;
        for (int i = 0; i <= last; i++)
        {
            cdf += candidates[i].Probability;
            if (r < cdf) return candidates[i].Index;
        }
        return candidates[last].Index;
    }

    /// <summary>run.c's random_u32 (xorshift*) and random_f32.</summary>
    private float NextFloat()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        uint bits = (uint)((_state * 0x2545F4914F6CDD1DUL) >> 32);
        return (bits >> 8) / 16777216f;
    }
}
