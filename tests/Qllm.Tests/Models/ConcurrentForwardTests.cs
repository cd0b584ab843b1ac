using Qllm.Formats.Llama2c;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Models;

public class ConcurrentForwardTests
{
    [Fact]
    public void ConcurrentForwardPassesOnOneModelDoNotInterfere()
    {
        // Callers share a model (parallel tests, a server); a pass's scratch KV cache must not be shared with
        // another pass. Two dedicated threads run 20 passes of 256 tokens each, so passes overlap (with a
        // shared scratch cache, 7 of 40 passes came out wrong).
        var model = Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint);
        int[][] inputs = Enumerable.Range(0, 2).Select(i => Enumerable.Range(0, 256).Select(t => 3 + (t * (i + 5) + i) % 500).ToArray()).ToArray();
        float[][] expected = inputs.Select(x => model.Forward(x, 1, x.Length)).ToArray();
        int mismatches = 0;
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            for (int round = 0; round < 20; round++)
                if (!model.Forward(inputs[i], 1, inputs[i].Length).SequenceEqual(expected[i])) Interlocked.Increment(ref mismatches);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(0, mismatches);
    }
}
