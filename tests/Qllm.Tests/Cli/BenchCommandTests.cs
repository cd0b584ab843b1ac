using System.Text.Json;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

/// <summary><c>qllm bench decode</c> with packed low-bit blocks and head: what it reports, and its option errors.</summary>
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

    private static JsonElement Decode(params string[] extra)
    {
        var result = CliProcess.Run(["bench", "decode", "--shape", "llama-15m", "--tokens", "4", .. extra]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        return JsonDocument.Parse(result.StdOut).RootElement.Clone();
    }
}
