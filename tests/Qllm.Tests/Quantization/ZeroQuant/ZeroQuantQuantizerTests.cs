using Qllm.Common;
using Qllm.Quantization.ZeroQuant;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization.ZeroQuant;

public class ZeroQuantQuantizerTests
{
    private static float[] Input() => [0.3f, -0.7f, 0.05f, 0.69f, -0.2625f, 0f, -1.2f, 0.4f, 1.2f, 0.15f, 0.075f, -0.6f];

    /// <summary>
    /// Golden values from tests/oracles/zeroquant_symquant.py (DeepSpeed's SymQuantizer in torch, one group per row):
    /// +max|x| clips one step low at 4 bits (1.2 → 1.05) and 0.075 / 0.15 = 0.5 rounds to even (0).
    /// </summary>
    [Theory]
    [InlineData(4, new[] { 0.262499988f, -0.699999988f, 0.0874999985f, 0.612500012f, -0.262499988f, 0f, -1.20000005f, 0.450000018f, 1.05000007f, 0.150000006f, 0f, -0.600000024f })]
    [InlineData(8, new[] { 0.30078125f, -0.699999988f, 0.0492187478f, 0.689062476f, -0.262499988f, 0f, -1.20000005f, 0.403125018f, 1.19062507f, 0.150000006f, 0.075000003f, -0.600000024f })]
    public void RowsMatchDeepSpeedsSymmetricQuantizer(int bits, float[] expected)
    {
        var weights = Input();
        new ZeroQuantWeightQuantizer(bits).Apply(weights, 2, 6);
        var tokens = Input();
        new ZeroQuantTokenQuantizer(bits).Apply(tokens, 2, 6);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], weights[i], 6);
            Assert.Equal(expected[i], tokens[i], 6);
        }
    }

    [Fact]
    public void GroupsOfColumnsGetTheirOwnScale()
    {
        var values = Input();
        new ZeroQuantWeightQuantizer(4, groupSize: 3).Apply(values, 2, 6);
        // Row 0, columns 3..5: max 0.69 → scale 0.08625; −0.2625 → round(−3.04) = −3 → −0.25875.
        Assert.Equal(-3 * 0.69f / 8, values[4], 6);
        // An all-zero group stays zero.
        var zeros = new float[6];
        new ZeroQuantWeightQuantizer(4, groupSize: 3).Apply(zeros, 1, 6);
        Assert.All(zeros, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void MixedSchemePutsAttentionAt8BitsAndTheFfnAtTheWeightBits()
    {
        var model = TinyModels.Llama(layers: 1);
        var scheme = new ZeroQuantScheme(4, Mixed: true, ActivationBits: 8);
        var bits = model.Blocks[0].Linears.ToDictionary(s => s.Name[(s.Name.LastIndexOf('.') + 1)..], scheme.BitsFor);
        Assert.Equal([8, 8, 8, 8, 4, 4, 4], new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" }.Select(n => bits[n]));
        var opt = TinyModels.Opt(layers: 1);
        Assert.Equal([8, 8, 8, 8, 4, 4], opt.Blocks[0].Linears.Select(scheme.BitsFor));
        Assert.Equal("W4/8A8 per-channel", scheme.Describe());
        ZeroQuantMethod.Apply(model, scheme);
        Assert.All(model.Blocks[0].Linears, s => Assert.Contains("a8 per-token", s.Layer.Kind));
    }

    [Theory]
    [InlineData("all", 5, new[] { 0, 1, 2, 3, 4 })]
    [InlineData("last", 5, new[] { 4 })]
    [InlineData("0, 3", 5, new[] { 0, 3 })]
    public void LkdLayersResolve(string text, int blocks, int[] expected) =>
        Assert.Equal(expected, LkdLayers.Parse(text).Resolve(blocks).Order());

    [Theory]
    [InlineData("first")]
    [InlineData("1,-2")]
    [InlineData("")]
    public void BadLkdLayersAreRejected(string text) => Assert.Throws<QllmException>(() => LkdLayers.Parse(text));

    [Fact]
    public void LkdLayerPastTheEndIsRejected() =>
        Assert.Contains("--lkd-layers", Assert.Throws<QllmException>(() => LkdLayers.Parse("5").Resolve(5)).Message);
}
