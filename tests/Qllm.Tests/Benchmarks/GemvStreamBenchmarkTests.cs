using Qllm.Benchmarks;
using Qllm.Common;
using Qllm.Quantization;
using Xunit;

namespace Qllm.Tests.Benchmarks;

/// <summary>What <see cref="GemvStreamBenchmark"/> streams and how it reports it (its speeds are measured, not tested).</summary>
public class GemvStreamBenchmarkTests
{
    // llama-15m's block: q, k, v, o 288×288 and gate, up, down 288×768 or 768×288.
    private const long BlockParameters = 4L * 288 * 288 + 3L * 288 * 768;

    [Fact]
    public void EachFormatStreamsTheFewestWholeBlocksThatReachTheSizeAsked()
    {
        var result = GemvStreamBenchmark.Run("llama-15m", megabytes: 1, rounds: 2, new QuantSpec(4, Symmetric: false, GroupSize: 128), warmupSeconds: 0);
        Assert.Equal(["fp32", "bf16", "packed w4 g128 asym"], result.Formats.Select(f => f.Name));
        // One block is already more than 1 MB at fp32 (4 bytes a weight) and bf16 (2).
        Assert.Equal((7, 4 * BlockParameters), (result.Formats[0].Layers, result.Formats[0].BytesPerPass));
        Assert.Equal((7, 2 * BlockParameters), (result.Formats[1].Layers, result.Formats[1].BytesPerPass));
        // 4-bit codes with an fp32 scale and zero per 128 weights: ~0.56 bytes a weight, so two blocks.
        var packed = result.Formats[2];
        Assert.Equal(14, packed.Layers);
        Assert.InRange(packed.BytesPerPass, 2 * BlockParameters / 2, 2 * BlockParameters * 6 / 10);
    }

    [Fact]
    public void EveryRoundHasItsCeilingAndEachFormatsShareOfIt()
    {
        var result = GemvStreamBenchmark.Run("llama-15m", megabytes: 1, rounds: 3, new QuantSpec(3, Symmetric: true, GroupSize: 32), warmupSeconds: 0);
        Assert.Equal(3, result.CeilingGbPerSecond.Length);
        Assert.All(result.CeilingGbPerSecond, c => Assert.True(c > 0 && double.IsFinite(c)));
        foreach (var format in result.Formats)
        {
            Assert.Equal(3, format.GbPerSecond.Length);
            for (int round = 0; round < 3; round++)
            {
                Assert.True(format.GbPerSecond[round] > 0 && double.IsFinite(format.GbPerSecond[round]));
                Assert.Equal(format.GbPerSecond[round] / result.CeilingGbPerSecond[round], format.OfCeiling[round]);
            }
        }
        Assert.Equal("packed w3 g32 sym", result.Formats[2].Name);
    }

    [Theory]
    [InlineData("llama-7b", 1, 1, "--shape")]
    [InlineData("llama-15m", 0, 1, "--megabytes")]
    [InlineData("llama-15m", 1, 0, "--rounds")]
    public void ImpossibleSettingsAreRejectedByName(string shape, int megabytes, int rounds, string named)
    {
        var error = Assert.Throws<QllmException>(() => GemvStreamBenchmark.Run(shape, megabytes, rounds, new QuantSpec(4, false, 128), warmupSeconds: 0));
        Assert.Contains(named, error.Message);
    }
}
