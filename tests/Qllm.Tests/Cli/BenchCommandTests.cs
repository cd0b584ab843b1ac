using System.Text.Json;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

/// <summary><c>qllm bench decode</c>, the ratio benches and <c>gemv-stream</c>: what they report, and their option errors.</summary>
public class BenchCommandTests
{
    [Fact]
    public void PackedDecodeReportsItsConfigurationAndFewerBytesPerToken()
    {
        var fp32 = Decode();
        var packed = Decode("--wbits", "4", "--wgroup", "32", "--head-dtype", "w8");
        Assert.Equal(4, packed.GetProperty("wbits").GetInt32());
        Assert.Equal(32, packed.GetProperty("wgroup").GetInt32());
        Assert.Equal("w8", packed.GetProperty("head_dtype").GetString());
        // 4-bit codes plus fp32 scale and zero per 32 weights, and an 8-bit head: well under a third of fp32's bytes.
        Assert.True(packed.GetProperty("bytes_per_token").GetInt64() < fp32.GetProperty("bytes_per_token").GetInt64() / 3);
        Assert.True(packed.GetProperty("tokens_per_s").GetDouble() > 0);
    }

    [Theory]
    [InlineData("--head-dtype", "w9", "--head-dtype")]
    [InlineData("--head-dtype", "fp8", "--head-dtype")]
    [InlineData("--wbits", "1", "--wbits")]
    [InlineData("--wgroup", "0", "--wgroup")]
    public void ImpossibleOptionsGiveOneClearError(string option, string value, string named)
    {
        string[] packed = option == "--wbits" ? [] : ["--wbits", "4"];
        var result = CliProcess.Run(["bench", "decode", "--shape", "llama-15m", "--tokens", "2", .. packed, option, value]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public void DecodeRatioReportsEveryHeadAgainstFp32RoundByRound()
    {
        var result = CliProcess.Run(["bench", "decode-ratio", "--shape", "llama-15m", "--tokens", "6", "--rounds", "2", "--segment", "4",
            "--wbits", "4", "--wgroup", "32", "--head-dtypes", "bf16,w4"]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        var configurations = JsonDocument.Parse(result.StdOut).RootElement.GetProperty("configurations").EnumerateArray().ToArray();
        Assert.Equal(["fp32", "w4 blocks, bf16 head", "w4 blocks, w4 head"], configurations.Select(c => c.GetProperty("name").GetString()));
        // fp32 is the anchor of every round; each configuration has one speed and one ratio per round.
        Assert.All(configurations[0].GetProperty("ratio_to_fp32").EnumerateArray(), r => Assert.Equal(1.0, r.GetDouble()));
        foreach (var c in configurations)
        {
            Assert.Equal(2, c.GetProperty("tokens_per_s").GetArrayLength());
            Assert.All(c.GetProperty("tokens_per_s").EnumerateArray(), v => Assert.True(v.GetDouble() > 0));
        }
        Assert.True(configurations[2].GetProperty("bytes_per_token").GetInt64() < configurations[1].GetProperty("bytes_per_token").GetInt64());
    }

    [Fact]
    public void PrefillRatioAnchorsEachRoundOnFp32()
    {
        var result = CliProcess.Run(["bench", "prefill-ratio", "--shape", "llama-15m", "--seqlen", "16", "--rounds", "3", "--wbits", "3", "--wgroup", "32"]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        var root = JsonDocument.Parse(result.StdOut).RootElement;
        Assert.Equal(16, root.GetProperty("seqlen").GetInt32());
        var configurations = root.GetProperty("configurations").EnumerateArray().ToArray();
        Assert.Equal(["fp32", "w3 blocks, f32 head"], configurations.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(3, configurations[1].GetProperty("ratio_to_fp32").GetArrayLength());
        Assert.True(configurations[1].GetProperty("median_ratio_to_fp32").GetDouble() > 0);
    }

    [Fact]
    public void GemvStreamReportsEachFormatAgainstTheRoundsCeiling()
    {
        var result = CliProcess.Run(["bench", "gemv-stream", "--shape", "llama-15m", "--megabytes", "1", "--rounds", "2", "--warmup", "0", "--wgroup", "64"]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        var root = JsonDocument.Parse(result.StdOut).RootElement;
        Assert.Equal(64, root.GetProperty("wgroup").GetInt32());
        Assert.Equal(2, root.GetProperty("ceiling_gb_per_s").GetArrayLength());
        var formats = root.GetProperty("formats").EnumerateArray().ToArray();
        Assert.Equal(["fp32", "bf16", "packed w4 g64 asym"], formats.Select(f => f.GetProperty("name").GetString()));
        Assert.All(formats, f => Assert.Equal(2, f.GetProperty("of_ceiling").GetArrayLength()));
    }

    [Theory]
    [InlineData("decode-ratio", "--rounds", "0", "--rounds")]
    [InlineData("decode-ratio", "--wbits", "9", "--wbits")]
    [InlineData("decode-ratio", "--head-dtypes", "f16", "--head-dtype")]
    [InlineData("gemv-stream", "--wbits", "9", "--wbits")]
    [InlineData("gemv-stream", "--wgroup", "-2", "--wgroup")]
    [InlineData("gemv-stream", "--warmup", "-1", "--warmup")]
    [InlineData("gemv-stream", "--shape", "llama-7b", "--shape")]
    public void DecodeRatioAndGemvStreamRejectImpossibleOptions(string bench, string option, string value, string named)
    {
        string[] small = bench == "decode-ratio" ? ["--shape", "llama-15m", "--tokens", "2"] : ["--megabytes", "1", "--rounds", "1"];
        var result = CliProcess.Run(["bench", bench, .. small, option, value]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    private static JsonElement Decode(params string[] extra)
    {
        var result = CliProcess.Run(["bench", "decode", "--shape", "llama-15m", "--tokens", "4", .. extra]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        return JsonDocument.Parse(result.StdOut).RootElement.Clone();
    }
}
