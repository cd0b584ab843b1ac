using Qllm.Quantization.Gptq;
using Qllm.Tensors.Kernels;
using Qllm.Tests.Support;
using Qllm.Tests.Tensors;
using Xunit;

namespace Qllm.Tests.Quantization.Gptq;

[Collection(KernelPathCollection.Name)]
public class HessianAccumulatorTests
{
    [Theory]
    [InlineData(KernelPath.Avx512)]
    [InlineData(KernelPath.Avx2)]
    [InlineData(KernelPath.Portable)]
    public void RunningMeanOverBatchesAndChunksEqualsTwoXTransposeXOverN(KernelPath path)
    {
        var previous = KernelSelector.Force(path);
        try { CheckAgainstTheDefinition(); }
        finally { KernelSelector.Force(previous); }
    }

    private static void CheckAgainstTheDefinition()
    {
        // 300 columns end in a partial 32-column panel and a partial 8-row sliver of the SYRK's tiles; a 4,500-row
        // batch spans two 4,096-row chunks, the second of them a whole 256-row block and a partial one.
        const int columns = 300;
        int[] batches = [4500, 7, 1];
        int tokens = batches.Sum();
        var x = DeterministicWeights.Generate("gptq.test.hessian", tokens * columns, 1f, 0.25f);
        var h = new HessianAccumulator(columns);
        int start = 0;
        foreach (int rows in batches)
        {
            h.Add(x.AsSpan(start * columns, rows * columns), rows);
            start += rows;
        }
        Assert.Equal(tokens, h.Samples);
        var actual = h.CopyMatrix();
        for (int i = 0; i < columns; i += i < 280 ? 13 : 1) // every row of the last panel, where padding lives
            for (int j = 0; j < columns; j++)
            {
                double expected = 0;
                for (int t = 0; t < tokens; t++) expected += (double)x[t * columns + i] * x[t * columns + j];
                expected *= 2.0 / tokens;
                Assert.True(Math.Abs(expected - actual[i * columns + j]) <= 1e-5 * (1 + Math.Abs(expected)), $"H[{i},{j}]: {expected} vs {actual[i * columns + j]}");
                Assert.Equal(actual[i * columns + j], actual[j * columns + i]);
            }
    }

    [Fact]
    public void AnEmptyBatchChangesNothing()
    {
        var h = new HessianAccumulator(3);
        h.Add([1f, 2f, 3f], 1);
        var before = h.CopyMatrix();
        h.Add([], 0);
        Assert.Equal(1, h.Samples);
        Assert.Equal(before, h.CopyMatrix());
        Assert.Equal(2.0 * 2 * 3, before[1 * 3 + 2]);
    }
}
