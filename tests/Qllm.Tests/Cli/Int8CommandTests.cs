using System.Text.Json;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

/// <summary><c>qllm eval --packed</c> and <c>qllm bench gemm --dtype i8</c>: what they run and report, and their option errors.</summary>
public class Int8CommandTests
{
    [Theory]
    [InlineData("--wbits", "4", "--abits", "8")]
    [InlineData("--wbits", "8", "--abits", "16")]
    [InlineData("--wbits", "8", "--abits", "8", "--wgroup", "32")]
    [InlineData("--wbits", "8", "--abits", "8", "--agroup", "16")]
    [InlineData("--wbits", "8", "--abits", "8", "--quantize-head")]
    public void ConfigurationsTheKernelCannotRunAreRefused(params string[] options)
    {
        var result = CliProcess.Run(["eval", "--model", SharedModels.Stories260KFolder, "--packed", "--limit", "1", .. options]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--packed", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public void PackedEvalLabelsItsRow()
    {
        var result = CliProcess.Run("eval", "--model", SharedModels.Stories260KFolder, "--packed", "--wbits", "8", "--abits", "8", "--act-sym", "--limit", "1");
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("A:a8 per-token sym int8", result.StdOut);
    }

    [Fact]
    public void BenchReportsBothProductsAndTheirRatio()
    {
        var result = CliProcess.Run("bench", "gemm", "--dtype", "i8", "--m", "9", "--n", "40", "--k", "70", "--rounds", "1");
        Assert.True(result.ExitCode == 0, result.StdErr);
        var row = JsonDocument.Parse(result.StdOut).RootElement.GetProperty("results")[0];
        Assert.Equal(70, row.GetProperty("k").GetInt32());
        double ratio = row.GetProperty("i8_over_f32").GetDouble();
        Assert.Equal(row.GetProperty("f32_best_s").GetDouble() / row.GetProperty("i8_best_s").GetDouble(), ratio, 1e-9);
        Assert.Contains("i8 / f32", result.StdErr);
    }

    [Theory]
    [InlineData("--shapes", "huge", "--shapes")]
    [InlineData("--rounds", "0", "--rounds")]
    [InlineData("--dtype", "i4", "--dtype")]
    public void ImpossibleBenchOptionsGiveOneClearError(string option, string value, string named)
    {
        var result = CliProcess.Run(["bench", "gemm", "--m", "8", "--n", "8", "--k", "8", .. (option == "--dtype" ? Array.Empty<string>() : ["--dtype", "i8"]), option, value]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }
}
