using Qllm.Models.KvCache;

namespace Qllm.Calibration;

/// <summary>
/// A KV cache with storage for one layer that every block index maps to. Calibration runs one block at a
/// time over all samples, so a whole-model cache of that batch (128 × 2048 positions × every layer) would be
/// wasted memory.
/// </summary>
internal sealed class SingleLayerKvCache(IKvCache inner) : IKvCache
{
    public int NumLayers => int.MaxValue;
    public int BatchSize => inner.BatchSize;
    public int Capacity => inner.Capacity;
    public int Length => inner.Length;
    public IKvCacheLayer Layer(int index) => inner.Layer(0);
    public void Advance(int tokens) => inner.Advance(tokens);
    public void Reset() => inner.Reset();
}
