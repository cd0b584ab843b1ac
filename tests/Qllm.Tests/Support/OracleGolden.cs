using System.Text.Json.Nodes;

namespace Qllm.Tests.Support;

/// <summary>Golden values written by the scripts in tests/oracles/ (copied beside the test assembly).</summary>
public static class OracleGolden
{
    public static JsonObject Load(string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "oracles", file)))!.AsObject();

    public static float[] Floats(JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
}
