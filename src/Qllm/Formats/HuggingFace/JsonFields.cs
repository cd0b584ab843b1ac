using System.Text.Json;

namespace Qllm.Formats.HuggingFace;

/// <summary>
/// Typed access to the fields of a JSON config object. A field of the wrong type is a <see cref="FormatException"/>
/// naming the field; callers turn it into a ModelFormatException naming the file.
/// </summary>
internal sealed class JsonFields(JsonElement root, string path)
{
    public JsonElement Root { get; } = root;
    public string Path { get; } = path;

    private JsonElement? Get(string name) =>
        Root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public int Int(string name) => OptionalInt(name) ?? throw new FormatException($"field '{name}' is missing");

    public int? OptionalInt(string name)
    {
        if (Get(name) is not { } value) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result))
            throw new FormatException($"field '{name}' must be an integer");
        return result;
    }

    public double Double(string name, double fallback)
    {
        if (Get(name) is not { } value) return fallback;
        if (value.ValueKind != JsonValueKind.Number) throw new FormatException($"field '{name}' must be a number");
        return value.GetDouble();
    }

    public bool Bool(string name, bool fallback)
    {
        if (Get(name) is not { } value) return fallback;
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw new FormatException($"field '{name}' must be true or false");
        return value.GetBoolean();
    }

    public string? OptionalString(string name) => Get(name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    public string String(string name, string fallback) => OptionalString(name) ?? fallback;

    public IReadOnlyList<int> IntList(string name) => Get(name) switch
    {
        null => [],
        { ValueKind: JsonValueKind.Number } one => [one.GetInt32()],
        { ValueKind: JsonValueKind.Array } many => many.EnumerateArray().Select(e => e.GetInt32()).ToArray(),
        _ => throw new FormatException($"field '{name}' must be an integer or a list of integers"),
    };
}
