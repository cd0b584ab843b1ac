using Qllm.Common;
using Qllm.Quantization;
using Qllm.Quantization.Gptq;
using Xunit;

namespace Qllm.Tests.Quantization.Gptq;

public class GptqOptionsTests
{
    [Theory]
    [InlineData(0.0, 128, false, 8, "--percdamp")]
    [InlineData(1.5, 128, false, 8, "--percdamp")]
    [InlineData(double.NaN, 128, false, 8, "--percdamp")]
    [InlineData(0.01, 0, false, 8, "--blocksize")]
    [InlineData(0.01, 128, true, -1, "--static-groups")]
    public void InvalidOptionsNameTheirCommandLineOption(double percDamp, int blockSize, bool staticGroups, int group, string option)
    {
        var options = new GptqOptions(new QuantSpec(4, false, group), percDamp, blockSize, StaticGroups: staticGroups);
        var error = Assert.Throws<QllmException>(options.Validate);
        Assert.Contains(option, error.Message);
    }

    [Fact]
    public void TheReferenceDefaultsAreValid()
    {
        var options = new GptqOptions(new QuantSpec(4, false, 128));
        options.Validate();
        Assert.Equal((0.01, 128, false, false), (options.PercDamp, options.BlockSize, options.ActOrder, options.StaticGroups));
    }
}
