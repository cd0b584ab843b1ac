namespace Qllm.Models.KvCache;

/// <summary>The full-precision cache: per (sequence, KV head), keys and values stored transposed [headDim, capacity].</summary>
public sealed class Fp32KvCache : IKvCache
{
    private readonly LayerStorage[] _layers;

    public int NumLayers => _layers.Length;
    public int BatchSize { get; }
    public int Capacity { get; }
    public int Length { get; private set; }

    public Fp32KvCache(int numLayers, int batchSize, int capacity, int numKvHeads, int headDim)
    {
        BatchSize = batchSize;
        Capacity = capacity;
        _layers = new LayerStorage[numLayers];
        for (int i = 0; i < numLayers; i++) _layers[i] = new LayerStorage(batchSize, capacity, numKvHeads, headDim);
    }

    public IKvCacheLayer Layer(int index) => _layers[index];

    public void Advance(int tokens)
    {
        if (Length + tokens > Capacity)
            throw new InvalidOperationException($"KV cache overflow: {Length} + {tokens} > capacity {Capacity}.");
        Length += tokens;
    }

    public void Reset() => Length = 0;

    /// <summary>One layer's storage. Also used alone as the scratch cache of a forward pass without a cache.</summary>
    internal sealed class LayerStorage(int batchSize, int capacity, int numKvHeads, int headDim) : IKvCacheLayer
    {
        private readonly float[] _keys = new float[(long)batchSize * numKvHeads * headDim * capacity];
        private readonly float[] _values = new float[(long)batchSize * numKvHeads * headDim * capacity];

        public int Capacity => capacity;

        private long Offset(int sequence, int kvHead) => ((long)sequence * numKvHeads + kvHead) * headDim * capacity;

        public void Write(int sequence, int position, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
        {
            if ((uint)position >= (uint)capacity)
                throw new InvalidOperationException($"KV cache position {position} is past its capacity {capacity}.");
            for (int h = 0; h < numKvHeads; h++)
            {
                long baseOffset = Offset(sequence, h) + position;
                for (int d = 0; d < headDim; d++)
                {
                    _keys[baseOffset + (long)d * capacity] = keys[h * headDim + d];
                    _values[baseOffset + (long)d * capacity] = values[h * headDim + d];
                }
            }
        }

        public ReadOnlySpan<float> ReadKeys(int sequence, int kvHead, int length, Span<float> scratch, out int stride)
        {
            stride = capacity;
            return new ReadOnlySpan<float>(_keys, (int)Offset(sequence, kvHead), headDim * capacity);
        }

        public ReadOnlySpan<float> ReadValues(int sequence, int kvHead, int length, Span<float> scratch, out int stride)
        {
            stride = capacity;
            return new ReadOnlySpan<float>(_values, (int)Offset(sequence, kvHead), headDim * capacity);
        }
    }
}
