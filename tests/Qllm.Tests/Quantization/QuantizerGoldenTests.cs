using System.Text.Json.Nodes;
using Qllm.Quantization;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization;

/// <summary>
/// Golden values from tests/oracles/quantizer_oracle.py: GPTQ's find_params/quantize (with and without the
/// mse search) re-implemented in float32 NumPy, run once, output committed as quantizer_golden.json.
/// </summary>
public class QuantizerGoldenTests
{
    private static readonly JsonObject Golden =
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "oracles", "quantizer_golden.json")))!.AsObject();

    private static float[] Weight()
    {
        var spec = Golden["weight"]!;
        int rows = spec["rows"]!.GetValue<int>(), cols = spec["cols"]!.GetValue<int>();
        float[] w = DeterministicWeights.Generate(spec["name"]!.GetValue<string>(), rows * cols, 1f);
        w[1 * cols + 5] = 6f;                                        // the edits listed in the JSON
        Array.Clear(w, 2 * cols, cols);
        for (int c = 0; c < cols; c++) w[3 * cols + c] = MathF.Abs(w[3 * cols + c]);
        return w;
    }

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Golden["cases"]!.AsArray().Count; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void MatchesTheNumPyReference(int index)
    {
        var c = Golden["cases"]!.AsArray()[index]!;
        var spec = new QuantSpec(c["bits"]!.GetValue<int>(), c["sym"]!.GetValue<bool>(), c["group"]!.GetValue<int>(), c["mse"]!.GetValue<bool>());
        int rows = Golden["weight"]!["rows"]!.GetValue<int>(), cols = Golden["weight"]!["cols"]!.GetValue<int>();
        float[] w = Weight();
        WeightQuantizer.FakeQuantize(w, rows, cols, spec);
        float[] expected = c["output"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        for (int i = 0; i < w.Length; i++)
            Assert.True(Math.Abs(expected[i] - w[i]) <= 1e-6f * (1 + Math.Abs(expected[i])), $"{spec.Describe()} element {i}: {expected[i]} vs {w[i]}");
    }
}
