using Qllm.Models.KvCache;

namespace Qllm.Evaluation.Harness;

/// <summary>
/// Copies the first positions of cached sequences into sequences of another cache, through the
/// <see cref="IKvCache"/> reads and writes only, so it works for any cache implementation (a quantized cache
/// re-stores what it reads). This is how the choices of a question share one prefill of their common prefix.
/// </summary>
public sealed class KvPrefixCopy(int numKvHeads, int headDim)
{
    private float[] _keyRows = [], _valueRows = [], _keyScratch = [], _valueScratch = [];

    /// <summary>
    /// Writes positions [0, <paramref name="length"/>) of each <paramref name="source"/> sequence s into the
    /// <paramref name="target"/> sequences i with <paramref name="sourceOf"/>[i] = s (the target's first sourceOf.Length sequences).
    /// </summary>
    public void Copy(IKvCache source, IKvCache target, ReadOnlySpan<int> sourceOf, int length)
    {
        if (sourceOf.Length > target.BatchSize) throw new ArgumentException($"sourceOf names {sourceOf.Length} sequences, the target holds {target.BatchSize}.");
        int kvDim = numKvHeads * headDim, padded = IKvCacheLayer.PaddedLength(length);
        Grow(ref _keyRows, length * kvDim);
        Grow(ref _valueRows, length * kvDim);
        Grow(ref _keyScratch, headDim * padded);
        Grow(ref _valueScratch, headDim * padded);
        for (int layer = 0; layer < source.NumLayers; layer++)
        {
            var from = source.Layer(layer);
            var to = target.Layer(layer);
            for (int s = 0; s < source.BatchSize; s++)
            {
                if (!sourceOf.Contains(s)) continue;
                for (int h = 0; h < numKvHeads; h++)
                {
                    var keys = from.ReadKeys(s, h, length, _keyScratch, out int keyStride);
                    var values = from.ReadValues(s, h, length, _valueScratch, out int valueStride);
                    for (int j = 0; j < length; j++)
                    {
                        keys.Slice(j * keyStride, headDim).CopyTo(_keyRows.AsSpan(j * kvDim + h * headDim, headDim));
                        values.Slice(j * valueStride, headDim).CopyTo(_valueRows.AsSpan(j * kvDim + h * headDim, headDim));
                    }
                }
                for (int sequence = 0; sequence < sourceOf.Length; sequence++)
                    if (sourceOf[sequence] == s)
                        to.Write(sequence, 0, length, _keyRows.AsSpan(0, length * kvDim), _valueRows.AsSpan(0, length * kvDim));
            }
        }
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
