namespace Qllm.Evaluation.Generation;

/// <summary>
/// CPython's <c>random.Random(seed)</c>, as far as lm-evaluation-harness's few-shot sampler uses it
/// (<c>rnd.sample(docs, k)</c>): the Mersenne Twister MT19937 seeded by <c>init_by_array</c> with the seed's 32-bit
/// words (Modules/_randommodule.c), <c>getrandbits</c>, <c>_randbelow</c> by rejection, and <c>sample</c>'s two
/// algorithms (Lib/random.py). The same seed gives the same few-shot examples as lm-eval.
/// </summary>
public sealed class PythonRandom
{
    private const int N = 624, M = 397;
    private readonly uint[] _state = new uint[N];
    private int _index = N;

    public PythonRandom(ulong seed)
    {
        // random.seed(int) uses abs(seed) split into 32-bit words, least significant first (at least one word).
        uint[] key = seed >> 32 == 0 ? [(uint)seed] : [(uint)seed, (uint)(seed >> 32)];
        InitByArray(key);
    }

    /// <summary>k distinct indices into a population of n, in the order <c>random.sample(range(n), k)</c> returns them.</summary>
    public int[] Sample(int n, int k)
    {
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"sample of {k} from {n}");
        var result = new int[k];
        // random.py: a list pool is used when it is small compared with the set that rejection sampling would need.
        int setSize = 21;
        if (k > 5) setSize += (int)Math.Pow(4, Math.Ceiling(Math.Log(k * 3, 4)));
        if (n <= setSize)
        {
            int[] pool = Enumerable.Range(0, n).ToArray();
            for (int i = 0; i < k; i++)
            {
                int j = RandBelow(n - i);
                result[i] = pool[j];
                pool[j] = pool[n - i - 1];
            }
            return result;
        }
        var selected = new HashSet<int>();
        for (int i = 0; i < k; i++)
        {
            int j = RandBelow(n);
            while (!selected.Add(j)) j = RandBelow(n);
            result[i] = j;
        }
        return result;
    }

    /// <summary><c>_randbelow_with_getrandbits</c>: draw n.bit_length() bits until the value is below n.</summary>
    private int RandBelow(int n)
    {
        int bits = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)n);
        uint r = GetRandBits(bits);
        while (r >= (uint)n) r = GetRandBits(bits);
        return (int)r;
    }

    /// <summary><c>getrandbits(k)</c> for k ≤ 32: the top k bits of one 32-bit output.</summary>
    private uint GetRandBits(int k) => NextUInt32() >> (32 - k);

    private void InitByArray(uint[] key)
    {
        _state[0] = 19650218U;
        for (int i = 1; i < N; i++) _state[i] = 1812433253U * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i;
        int a = 1, b = 0;
        for (int k = Math.Max(N, key.Length); k > 0; k--)
        {
            _state[a] = (_state[a] ^ ((_state[a - 1] ^ (_state[a - 1] >> 30)) * 1664525U)) + key[b] + (uint)b;
            a++; b++;
            if (a >= N) { _state[0] = _state[N - 1]; a = 1; }
            if (b >= key.Length) b = 0;
        }
        for (int k = N - 1; k > 0; k--)
        {
            _state[a] = (_state[a] ^ ((_state[a - 1] ^ (_state[a - 1] >> 30)) * 1566083941U)) - (uint)a;
            a++;
            if (a >= N) { _state[0] = _state[N - 1]; a = 1; }
        }
        _state[0] = 0x80000000U;
        _index = N;
    }

    private uint NextUInt32()
    {
        if (_index >= N) Twist();
        uint y = _state[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680U;
        y ^= (y << 15) & 0xefc60000U;
        y ^= y >> 18;
        return y;
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_state[i] & 0x80000000U) | (_state[(i + 1) % N] & 0x7fffffffU);
            _state[i] = _state[(i + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfU : 0U);
        }
        _index = 0;
    }
}
