namespace Qllm.Tests.Support;

/// <summary>
/// Reproducible pseudo-random weights that the C# tests and the NumPy oracles under
/// tests/oracles generate identically, so the tests can write a random checkpoint and still
/// compare against golden values computed once by an independent implementation.
///
/// value(name, i) = scale * (2 * u - 1) + offset, where u = (splitmix64(fnv1a64(name) + i) >> 40) / 2^24
/// (a float in [0, 1) with 24 bits of precision, exactly representable in float32).
/// </summary>
public static class DeterministicWeights
{
    public static ulong Fnv1a64(string text)
    {
        ulong hash = 0xcbf29ce484222325UL;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 0x100000001b3UL;
        }
        return hash;
    }

    public static ulong SplitMix64(ulong x)
    {
        x += 0x9e3779b97f4a7c15UL;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9UL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebUL;
        return x ^ (x >> 31);
    }

    public static float[] Generate(string name, int count, float scale, float offset = 0f)
    {
        var values = new float[count];
        ulong seed = Fnv1a64(name);
        for (int i = 0; i < count; i++)
        {
            ulong bits = SplitMix64(seed + (ulong)i) >> 40;
            float u = bits / 16777216f;
            // Computed in float32 in this exact order; the oracle does the same.
            values[i] = scale * (2f * u - 1f) + offset;
        }
        return values;
    }
}
