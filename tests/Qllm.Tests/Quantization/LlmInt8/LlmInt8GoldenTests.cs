using System.Text.Json.Nodes;
using Qllm.Models.Layers;
using Qllm.Quantization.LlmInt8;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization.LlmInt8;

/// <summary>
/// LLM.int8() against tests/oracles/llm_int8_oracle.py (bitsandbytes' int8_vectorwise_quant and MatMul8bitLt in
/// float32 NumPy, output committed as llm_int8_golden.json: threshold 6 finds the three planted outlier columns, one exactly at 6,
/// threshold 100 none, which is plain int8 vector-wise), and against its two limits and its exactness on outliers.
/// </summary>
public class LlmInt8GoldenTests
{
    private static readonly JsonObject Golden = OracleGolden.Load("llm_int8_golden.json");

    private static int Rows => Golden["rows"]!.GetValue<int>();
    private static int Cols => Golden["cols"]!.GetValue<int>();
    private static int Outs => Golden["outs"]!.GetValue<int>();

    private static float[] Input()
    {
        var spec = Golden["x"]!;
        float[] x = DeterministicWeights.Generate(spec["name"]!.GetValue<string>(), Rows * Cols, spec["scale"]!.GetValue<float>());
        foreach (var edit in spec["edits"]!.AsArray())
            x[edit![0]!.GetValue<int>() * Cols + edit[1]!.GetValue<int>()] = edit[2]!.GetValue<float>();
        return x;
    }

    private static DenseLinear Dense() => new(
        DeterministicWeights.Generate(Golden["w"]!["name"]!.GetValue<string>(), Outs * Cols, Golden["w"]!["scale"]!.GetValue<float>()), Outs, Cols,
        DeterministicWeights.Generate(Golden["bias"]!["name"]!.GetValue<string>(), Outs, Golden["bias"]!["scale"]!.GetValue<float>()));

    private static float[] Run(ILinear layer, float[] x)
    {
        var y = new float[Rows * Outs];
        layer.Forward(x, y, Rows);
        return y;
    }

    public static TheoryData<int> Cases() => [0, 1];

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheBitsandbytesConventions(int index)
    {
        var golden = Golden["cases"]![index]!;
        var layer = new LlmInt8Linear(Dense(), golden["threshold"]!.GetValue<float>());
        ModelAssert.Close(OracleGolden.Floats(golden["output"]), Run(layer, Input()), 1e-5);
        Assert.Equal((1L, (long)golden["outlier_columns"]!.GetValue<int>()), layer.Statistics);
    }

    [Fact]
    public void ThresholdZeroIsFullPrecision()
    {
        var dense = Dense();
        var layer = new LlmInt8Linear(dense, 0f);
        ModelAssert.Close(Run(dense, Input()), Run(layer, Input()), 1e-5);
        Assert.Equal((1L, (long)Cols), layer.Statistics);
    }

    [Fact]
    public void AnOutlierValueIsMultipliedExactlyWithTheOriginalWeights()
    {
        var dense = Dense();
        var layer = new LlmInt8Linear(dense, 6f);
        float[] x = Input(), moved = Input();
        moved[1 * Cols + 4] += 3.25f; // the planted outlier 9 → 12.25: left out of the row's int8 scale, so only its fp32 product moves
        float[] y = Run(layer, x), yMoved = Run(layer, moved);
        for (int o = 0; o < Outs; o++)
        {
            Assert.Equal(3.25f * dense.Weight[o * Cols + 4], yMoved[1 * Outs + o] - y[1 * Outs + o], 1e-5f);
            for (int r = 0; r < Rows; r++)
                if (r != 1) Assert.Equal(y[r * Outs + o], yMoved[r * Outs + o]);
        }
    }
}
