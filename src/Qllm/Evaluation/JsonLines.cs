using System.Text.Json;
using Qllm.Common;

namespace Qllm.Evaluation;

/// <summary>Reads JSON Lines files, reporting a malformed line by file and line number.</summary>
public static class JsonLines
{
    public static IEnumerable<JsonElement> Read(string path) => ReadNumbered(path).Select(r => r.Element);

    /// <summary>Every object with its 1-based line number, so a field's error can name the line.</summary>
    public static IEnumerable<(int Line, JsonElement Element)> ReadNumbered(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement element;
            try { element = JsonDocument.Parse(line).RootElement.Clone(); }
            catch (JsonException e) { throw new ModelFormatException(path, $"line {number}: not valid JSON ({e.Message})"); }
            if (element.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, $"line {number}: expected a JSON object");
            yield return (number, element);
        }
    }

    /// <summary>The string field <paramref name="field"/> of every line.</summary>
    public static IEnumerable<string> ReadStrings(string path, string field) =>
        Tasks.TaskFile.JsonLines(path).Select(record => record.String(field));
}
