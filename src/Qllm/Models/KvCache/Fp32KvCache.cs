using Qllm.Tensors;

namespace Qllm.Models.KvCache;

/// <summary>
/// The full-precision cache. Per (sequence, KV head): keys and values by row [capacity, headDim], with the
/// capacity rounded up to a multiple of 32 (zero-filled) so that attention's 32-key blocks never read past the end.
/// </summary>
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
        // Decode reads the whole cache every token, after the weights' stream has evicted it: 2 MB pages save
        // its page walks as they do the weights' (W4 110M decode, medians in turns: +4.8% with weights and cache
        // on 2 MB pages, +3.7% with the weights alone, in two separate runs).
        HugePages.Advise(_layers.SelectMany(layer => layer.PinnedStorage));
    }

    public IKvCacheLayer Layer(int index) => _layers[index];

    public void Advance(int tokens)
    {
        if (Length + tokens > Capacity)
            throw new InvalidOperationException($"KV cache overflow: {Length} + {tokens} > capacity {Capacity}.");
        Length += tokens;
    }

    public void Reset() => Length = 0;

    internal sealed class LayerStorage(int batchSize, int capacity, int numKvHeads, int headDim) : IKvCacheLayer
    {
        private readonly int _paddedCapacity = IKvCacheLayer.PaddedLength(capacity);
        // Pinned, so that their pages can be advised (HugePages needs addresses that never move).
        private readonly float[] _keys = Pinned(batchSize, numKvHeads, headDim, capacity);
        private readonly float[] _values = Pinned(batchSize, numKvHeads, headDim, capacity);

        private static float[] Pinned(int batchSize, int numKvHeads, int headDim, int capacity) =>
            GC.AllocateArray<float>(checked(batchSize * numKvHeads * headDim * IKvCacheLayer.PaddedLength(capacity)), pinned: true);

        public IEnumerable<Array> PinnedStorage => [_keys, _values];

        private int Offset(int sequence, int kvHead) => (sequence * numKvHeads + kvHead) * headDim * _paddedCapacity;

        public void Write(int sequence, int position, int count, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
        {
            if (position < 0 || position + count > capacity)
                throw new InvalidOperationException($"KV cache positions {position}..{position + count - 1} are past its capacity {capacity}.");
            int kvDim = numKvHeads * headDim;
            for (int h = 0; h < numKvHeads; h++)
            {
                int offset = Offset(sequence, h);
                for (int t = 0; t < count; t++)
                {
                    keys.Slice(t * kvDim + h * headDim, headDim).CopyTo(_keys.AsSpan(offset + (position + t) * headDim, headDim));
                    values.Slice(t * kvDim + h * headDim, headDim).CopyTo(_values.AsSpan(offset + (position + t) * headDim, headDim));
                }
            }
        }

        /// <summary>Asks L2 for the first bytes of the head's keys and of its values (its rows are contiguous).</summary>
        public unsafe void Prefetch(int sequence, int kvHead, int length, int bytes)
        {
            long held = Math.Min(bytes, 4L * length * headDim);
            int offset = Offset(sequence, kvHead);
            fixed (float* keys = &_keys[offset], values = &_values[offset])
            {
                CacheWarming.Prefetch(keys, held);
                CacheWarming.Prefetch(values, held);
            }
        }

        public ReadOnlySpan<float> ReadKeys(int sequence, int kvHead, int length, Span<float> scratch, out int stride)
        {
            stride = headDim;
            return new ReadOnlySpan<float>(_keys, Offset(sequence, kvHead), headDim * _paddedCapacity);
        }

        public ReadOnlySpan<float> ReadValues(int sequence, int kvHead, int length, Span<float> scratch, out int stride)
        {
            stride = headDim;
            return new ReadOnlySpan<float>(_values, Offset(sequence, kvHead), headDim * _paddedCapacity);
        }
    }
}
