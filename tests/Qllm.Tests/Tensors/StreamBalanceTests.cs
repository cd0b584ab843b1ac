using System.Diagnostics;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Quantization.Packed;
using Qllm.Tensors;
using Qllm.Tests.Quantization.Packed;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Tensors;

[Collection(KernelPathCollection.Name)]
public class StreamBalanceTests
{
    [Fact]
    public void A_new_balance_splits_equally()
    {
        var bounds = new int[4];
        new StreamBalance().Split(100, bounds);
        Assert.Equal(new[] { 0, Compute.Share(100, 1, 3).Start, Compute.Share(100, 2, 3).Start, 100 }, bounds);
    }

    [Fact]
    public void A_chunk_that_finishes_late_gets_less_until_the_floor()
    {
        var balance = new StreamBalance();
        var bounds = new int[3];
        balance.Split(1000, bounds);
        Assert.Equal(500, bounds[1]);
        for (int call = 0; call < 10; call++) Call(balance, bounds, late: 0);
        Assert.InRange(bounds[1], 480, 499); // 10 steps of 0.4% each way: 500 · 0.96 / 1.00 ≈ 480
        for (int call = 0; call < 3000; call++) Call(balance, bounds, late: 0);
        Assert.Equal((int)Math.Round(1000 * 0.25 / 4.25), bounds[1]); // clamped at [1/4, 4] × the equal share
        for (int call = 0; call < 3000; call++) Call(balance, bounds, late: 1);
        Assert.Equal((int)Math.Round(1000 * 4 / 4.25), bounds[1]);
    }

    [Fact]
    public void Bounds_always_cover_the_range_in_order()
    {
        var balance = new StreamBalance();
        var bounds = new int[4];
        var random = new Random(7);
        for (int call = 0; call < 500; call++)
        {
            Call(balance, bounds, late: random.Next(3), count: 37);
            Assert.Equal(0, bounds[0]);
            Assert.Equal(37, bounds[3]);
            for (int c = 0; c < 3; c++) Assert.True(bounds[c] <= bounds[c + 1], string.Join(",", bounds));
        }
    }

    [Fact]
    public void Uneven_splits_give_the_serial_results_of_low_bit_and_dense_decode()
    {
        // Every output panel is computed by exactly one thread, whatever the split: the results equal the serial
        // ones to the bit. The outputs start as NaN, so a panel that no chunk covers would show.
        const int n = 520, k = 384;
        var packed = new PackedLowBitLinear(LowBitWeights.Make(n, k, new QuantSpec(4, false, 128), actOrder: true), null);
        var dense = new DenseLinear(DeterministicWeights.Generate("balance.w", n * k, 1f), n, k);
        float[] x = DeterministicWeights.Generate("balance.x", k, 1f);
        int threads = Compute.Threads;
        try
        {
            foreach (ILinear layer in new ILinear[] { packed, dense })
            {
                Compute.Threads = 1;
                var serial = Run(layer, x, n);
                Compute.Threads = 2;
                var balance = layer is PackedLowBitLinear p ? p.Balance : ((DenseLinear)layer).Packed.Balance;
                foreach (double[] weights in new[] { new[] { 4.0, 0.25 }, new[] { 0.25, 4.0 }, new[] { 1.0, 1.3 } })
                {
                    balance.Weigh(weights);
                    Assert.Equal(serial, Run(layer, x, n));
                }
            }
        }
        finally { Compute.Threads = threads; }
    }

    private static float[] Run(ILinear layer, float[] x, int n)
    {
        var y = new float[n];
        Array.Fill(y, float.NaN);
        layer.Forward(x, y, 1);
        return y;
    }

    /// <summary>One call: every chunk finishes, the chunk <paramref name="late"/> last; then the balance learns and splits again.</summary>
    private static void Call(StreamBalance balance, int[] bounds, int late, int count = 1000)
    {
        int chunks = bounds.Length - 1;
        for (int c = 0; c < chunks; c++)
            if (c != late) balance.Finished(c);
        long now = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() == now) { }
        balance.Finished(late);
        balance.Learn();
        balance.Split(count, bounds);
    }
}
