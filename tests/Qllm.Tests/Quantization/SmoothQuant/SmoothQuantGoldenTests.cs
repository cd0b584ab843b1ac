using System.Text.Json.Nodes;
using Qllm.Models.Layers;
using Qllm.Quantization.SmoothQuant;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization.SmoothQuant;

/// <summary>
/// Golden values from tests/oracles/smoothquant_oracle.py: the reference's smooth_ln_fcs (weight maxima over q and k,
/// clamps at 1e-5, s = act^α / w^(1−α), norm ÷ s, weight columns × s) in float32 NumPy, run once, output committed
/// as smoothquant_golden.json. The example has a dead activation channel and an all-zero weight column (both clamps).
/// </summary>
public class SmoothQuantGoldenTests
{
    private static readonly JsonObject Golden = OracleGolden.Load("smoothquant_golden.json");

    private static int Channels => Golden["channels"]!.GetValue<int>();

    private static DenseLinear Layer(string key)
    {
        var spec = Golden[key]!;
        int rows = spec["rows"]!.GetValue<int>(), zero = spec["zero_column"]!.GetValue<int>();
        float[] w = DeterministicWeights.Generate(spec["name"]!.GetValue<string>(), rows * Channels, spec["scale"]!.GetValue<float>());
        for (int r = 0; r < rows; r++) w[r * Channels + zero] = 0;
        return new DenseLinear(w, rows, Channels);
    }

    private static LayerNormLayer Norm()
    {
        var weight = Golden["norm"]!["weight"]!.AsArray();
        var bias = Golden["norm"]!["bias"]!.AsArray();
        return new LayerNormLayer(
            DeterministicWeights.Generate(weight[0]!.GetValue<string>(), Channels, weight[1]!.GetValue<float>(), weight[2]!.GetValue<float>()),
            DeterministicWeights.Generate(bias[0]!.GetValue<string>(), Channels, bias[1]!.GetValue<float>()), 1e-5f);
    }

    public static TheoryData<int> Cases() => [0, 1];

    [Theory]
    [MemberData(nameof(Cases))]
    public void ScalesMatchTheReferenceFormula(int index)
    {
        var golden = Golden["cases"]![index]!;
        float[] scales = SmoothingScales.Compute(OracleGolden.Floats(Golden["activation_max"]), [Layer("q"), Layer("k")], golden["alpha"]!.GetValue<double>());
        ModelAssert.Close(OracleGolden.Floats(golden["scales"]), scales, 1e-6);
        Assert.Equal(SmoothingScales.MinValue, scales[0]); // the dead channel's scale is clamped
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FoldingDividesTheNormAndScalesTheInputColumns(int index)
    {
        var golden = Golden["cases"]![index]!;
        var q = new LinearSlot("q", Layer("q"));
        var k = new LinearSlot("k", Layer("k"));
        var group = new NormFedGroup(Norm(), [q, k]);
        var original = (DenseLinear)q.Layer;
        SmoothingFold.Apply(group, OracleGolden.Floats(golden["scales"]));

        for (int j = 0; j < Channels; j++)
        {
            Assert.Equal(golden["norm_weight"]![j]!.GetValue<float>(), group.Norm.Weight[j], 1e-6f * Math.Max(1, Math.Abs(group.Norm.Weight[j])));
            Assert.Equal(golden["norm_bias"]![j]!.GetValue<float>(), group.Norm.Bias![j], 1e-6f * Math.Max(1, Math.Abs(group.Norm.Bias[j])));
        }
        ModelAssert.Close(OracleGolden.Floats(golden["q_weight"]), ((DenseLinear)q.Layer).Weight, 1e-6);
        Assert.NotSame(original, q.Layer);
        Assert.Equal(Layer("q").Weight, original.Weight); // the old layer is left as it was, for a sweep to restore
    }
}
