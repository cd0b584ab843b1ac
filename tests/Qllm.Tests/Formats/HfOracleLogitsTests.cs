using System.Text.Json.Nodes;
using Qllm.Formats.HuggingFace;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Formats;

/// <summary>
/// Random-weight checkpoints of each supported architecture, written by the test, must give the logits
/// of an independent implementation: tests/oracles/hf_forward_oracle.py (NumPy, float64, written from
/// the transformers modeling code), whose output tests/oracles/hf_models.json was generated once and committed.
/// </summary>
public class HfOracleLogitsTests
{
    private static readonly Lazy<JsonObject> Oracle = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "oracles", "hf_models.json")))!.AsObject());

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Oracle.Value["cases"]!.AsArray()) data.Add(c!["name"]!.GetValue<string>());
        return data;
    }

    internal static JsonObject Case(string name) =>
        Oracle.Value["cases"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == name)!.AsObject();

    /// <summary>Writes the case's checkpoint with the shared deterministic generator and returns its folder.</summary>
    internal static void WriteCheckpoint(JsonObject testCase, string folder)
    {
        var tensors = testCase["tensors"]!.AsArray().Select(t =>
        {
            string name = t!["name"]!.GetValue<string>();
            long[] shape = t["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            float[] values = DeterministicWeights.Generate(name, (int)shape.Aggregate(1L, (a, b) => a * b),
                t["scale"]!.GetValue<float>(), t["offset"]!.GetValue<float>());
            return (name, shape, values);
        });
        HfCheckpointWriter.Write(folder, testCase["config"]!.AsObject(), tensors);
    }

    /// <summary>Writes the case's checkpoint to a temporary folder and loads it through the HF loader.</summary>
    private static (JsonObject Case, Qllm.Models.CausalLanguageModel Model, int[][] Inputs) Load(string name)
    {
        var testCase = Case(name);
        using var folder = new TempFolder();
        WriteCheckpoint(testCase, folder.Path);
        var model = HfModelLoader.Load(folder.Path);
        int[][] inputs = testCase["input_ids"]!.AsArray().Select(s => s!.AsArray().Select(t => t!.GetValue<int>()).ToArray()).ToArray();
        return (testCase, model, inputs);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsMatchTheNumPyOracle(string name)
    {
        var (testCase, model, inputs) = Load(name);
        int batch = inputs.Length, seqLen = inputs[0].Length;
        float[] logits = model.Forward(inputs.SelectMany(s => s).ToArray(), batch, seqLen);
        float[] expected = testCase["logits"]!.AsArray()
            .SelectMany(s => s!.AsArray()).SelectMany(p => p!.AsArray()).Select(v => v!.GetValue<float>()).ToArray();
        // fp32 arithmetic against a float64 oracle: agreement to 1e-4 of the largest logit.
        ModelAssert.Close(expected, logits, 1e-4);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void KvCacheDecodingEqualsRecomputation(string name)
    {
        var (_, model, inputs) = Load(name);
        ModelAssert.DecodingMatchesRecomputation(model, inputs[0], prefill: 3);
    }
}
