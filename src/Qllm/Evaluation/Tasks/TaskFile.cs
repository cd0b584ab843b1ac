using System.Text.Json;
using Qllm.Common;

namespace Qllm.Evaluation.Tasks;

/// <summary>
/// Fields of a task's data file, read with errors that name the file and the line (or, for a JSON array,
/// the item), so a malformed file says where it is broken.
/// </summary>
public readonly record struct TaskRecord(string Path, string Where, JsonElement Element)
{
    public ModelFormatException Error(string detail) => new(Path, $"{Where}: {detail}");

    public string String(string field) =>
        Element.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Error($"no string field '{field}'");

    public int Int(string field) =>
        Element.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number)
            ? number
            : throw Error($"no integer field '{field}'");

    public string[] Strings(string field)
    {
        if (!Element.TryGetProperty(field, out var value) || value.ValueKind != JsonValueKind.Array)
            throw Error($"no array field '{field}'");
        var self = this;
        return value.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String
            ? item.GetString()!
            : throw self.Error($"field '{field}' holds a non-string item")).ToArray();
    }

    public TaskRecord Object(string field) =>
        Element.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Object
            ? this with { Element = value }
            : throw Error($"no object field '{field}'");

    /// <summary>A gold index that must address one of <paramref name="choices"/> choices.</summary>
    public int Index(int value, int choices, string what) =>
        value >= 0 && value < choices ? value : throw Error($"{what} {value} is not one of the {choices} choices");
}

/// <summary>Opens the data files of tasks.</summary>
public static class TaskFile
{
    public static IEnumerable<TaskRecord> JsonLines(string path) =>
        Evaluation.JsonLines.ReadNumbered(path).Select(r => new TaskRecord(path, $"line {r.Line}", r.Element));

    /// <summary>The lines of a plain-text file, failing with the file's name when it is missing.</summary>
    public static string[] Lines(string path) =>
        File.Exists(path) ? File.ReadAllLines(path) : throw new ModelFormatException(path, "file not found");

    /// <summary>An integer per line (label files such as PIQA's valid-labels.lst).</summary>
    public static int[] IntegerLines(string path) =>
        Lines(path).Select((line, i) => int.TryParse(line.Trim(), out int value)
            ? value
            : throw new ModelFormatException(path, $"line {i + 1}: '{line}' is not an integer")).ToArray();

    public static string Require(string path) => File.Exists(path) ? path : throw new ModelFormatException(path, "file not found");
}
