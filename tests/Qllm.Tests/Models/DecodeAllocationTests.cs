using Qllm.Models;
using Qllm.Quantization;
using Qllm.Tests.Support;
using Qllm.Tests.Tensors;
using Xunit;

namespace Qllm.Tests.Models;

/// <summary>
/// Issue 3's memory rule: once warm, a decode step (one token through every block with a KV cache, then the
/// head) allocates nothing; buffers come from pools and parallel loops are struct bodies. Measured with the
/// process-wide allocation counter, so work on the pool's threads counts too.
/// </summary>
[Collection(KernelPathCollection.Name)] // no other test may allocate while this one counts
public class DecodeAllocationTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("opt")]
    [InlineData("llama-packed")] // W4 g64 packed blocks: batched low-bit GEMVs with their gathered inputs
    public void ADecodeStepAllocatesNothing(string family)
    {
        CausalLanguageModel model = family.StartsWith("llama", StringComparison.Ordinal)
            ? TinyModels.Llama(vocab: 512, dim: 256, hidden: 512, layers: 2, heads: 8, kvHeads: 4, maxPositions: 256)
            : TinyModels.Opt(vocab: 512, dim: 256, hidden: 512, layers: 2, heads: 8, maxPositions: 256);
        if (family == "llama-packed") RtnMethod.QuantizeWeights(model, new QuantSpec(4, Symmetric: false, GroupSize: 64), simulate: false);
        var cache = model.CreateKvCache(1, 200);
        var hidden = new float[model.Config.HeadInputDim];
        var logits = new float[model.Config.VocabSize];
        int[] token = [5];
        void Step()
        {
            model.ForwardHidden(token, 1, 1, cache, hidden);
            model.Logits(hidden, logits, 1);
        }
        // Warm the pools and the JIT; the pauses let the pool's workers go to sleep and wake, whose wait objects are created lazily once.
        for (int i = 0; i < 130; i++)
        {
            Step();
            if (i % 10 == 0) Thread.Sleep(3);
        }
        // The counter is process-wide, so the test runner's own threads (its message bus reporting earlier tests) can
        // add a burst now and then (31 KB once in a cold first run): the least of three windows is kept. One allocation
        // per step would show in every window as 60 objects of at least 24 bytes, far above this bound.
        long allocated = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            cache.Reset(); // 60 more positions each time, within the cache's 200
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 60; i++) Step();
            allocated = Math.Min(allocated, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        Assert.True(allocated < 60 * 24, $"60 decode steps allocated {allocated} bytes");
    }
}
