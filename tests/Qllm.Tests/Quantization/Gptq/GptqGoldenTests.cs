using System.Text.Json.Nodes;
using Qllm.Quantization;
using Qllm.Quantization.Gptq;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization.Gptq;

/// <summary>
/// Golden values from tests/oracles/gptq_oracle.py, a NumPy transcription of the reference's add_batch and
/// fasterquant (float32 weights and updates, float64 Hinv chain). The solver differs from it only in summation
/// order (fp32 GEMM, fused multiply-adds) and in computing U by one reversed Cholesky instead of three steps,
/// so values agree to ~1e-6 relative; a rounding flip would show as a whole grid step, far beyond the tolerance.
/// </summary>
public class GptqGoldenTests
{
    private static readonly JsonObject Golden =
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "oracles", "gptq_golden.json")))!.AsObject();

    private static int Int(string section, string key) => Golden[section]![key]!.GetValue<int>();

    /// <summary>W [12, 40] and the Hessian of X [64, 40], accumulated in the oracle's two batches, with its edits.</summary>
    internal static (float[] W, HessianAccumulator H) Problem()
    {
        int rows = Int("weight", "rows"), cols = Int("weight", "cols"), tokens = Int("inputs", "rows");
        var w = DeterministicWeights.Generate("gptq.golden.weight", rows * cols, 1f);
        w[4 * cols + 9] = 3.5f;
        var x = DeterministicWeights.Generate("gptq.golden.inputs", tokens * cols, 1f);
        for (int t = 0; t < tokens; t++)
        {
            x[t * cols + 11] += 0.8f * x[t * cols + 10];
            x[t * cols + 3] *= 5f;
            x[t * cols + 7] = 0f;
        }
        var h = new HessianAccumulator(cols);
        int first = Golden["inputs"]!["batches"]![0]!.GetValue<int>();
        h.Add(x.AsSpan(0, first * cols), first);
        h.Add(x.AsSpan(first * cols), tokens - first);
        return (w, h);
    }

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Golden["cases"]!.AsArray().Count; i++) data.Add(i);
        return data;
    }

    private static float[] Floats(JsonNode c, string key) => c[key]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void MatchesTheNumPyReference(int index)
    {
        var c = Golden["cases"]!.AsArray()[index]!;
        var spec = new QuantSpec(c["bits"]!.GetValue<int>(), c["sym"]!.GetValue<bool>(), c["group"]!.GetValue<int>(), c["mse"]!.GetValue<bool>());
        var options = new GptqOptions(spec, Golden["percdamp"]!.GetValue<double>(), c["blocksize"]!.GetValue<int>(),
            c["actorder"]!.GetValue<bool>(), c["static"]!.GetValue<bool>());
        int rows = Int("weight", "rows"), cols = Int("weight", "cols");
        var (w, h) = Problem();

        var result = GptqSolver.Quantize(w, rows, cols, h, options);

        string name = options.Describe();
        var expected = Floats(c, "dequantized");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - result.Dequantized[i]) <= 1e-5f * (1 + Math.Abs(expected[i])),
                $"{name} element {i}: {expected[i]} vs {result.Dequantized[i]}");
        Assert.Equal(c["g_idx"]!.AsArray().Select(v => v!.GetValue<int>()), result.Quantized.GroupIndexOrContiguous());
        AssertClose(Floats(c, "scales"), result.Quantized.Scales, 1e-5f, name + " scales");
        AssertClose(Floats(c, "zeros"), result.Quantized.Zeros, 0f, name + " zeros");
        double loss = c["loss"]!.GetValue<double>();
        Assert.True(Math.Abs(loss - result.Loss) <= 1e-4 * loss, $"{name} loss {loss} vs {result.Loss}");
        Assert.Equal(result.Quantized.Dequantize(), result.Dequantized);
        Assert.Equal(0, result.DampRetries);
    }

    private static void AssertClose(float[] expected, float[] actual, float relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * (1 + Math.Abs(expected[i])), $"{what}[{i}]: {expected[i]} vs {actual[i]}");
    }
}
