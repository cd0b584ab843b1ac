using System.Text.Json;
using System.Text.Unicode;
using Qllm.Common;

namespace Qllm.Formats.Safetensors;

/// <summary>
/// Parses and validates the JSON header of a safetensors file. The header is an object whose keys
/// are tensor names, each mapped to {"dtype": STRING, "shape": [INT...], "data_offsets": [BEGIN, END]},
/// plus an optional "__metadata__" string-to-string map. Every rule is checked here, so that
/// readers can later trust the offsets without bounds checks of their own.
/// </summary>
internal static class SafetensorsHeader
{
    internal const string MetadataKey = "__metadata__";

    internal readonly record struct Parsed(List<TensorInfo> Tensors, Dictionary<string, string> Metadata);

    /// <param name="path">File named in error messages.</param>
    /// <param name="json">The N header bytes.</param>
    /// <param name="dataLength">Length of the data section (file length - 8 - N).</param>
    internal static Parsed Parse(string path, byte[] json, long dataLength)
    {
        // JSON is UTF-8 by definition; check it up front so that an invalid byte is reported as
        // such rather than as whatever the JSON reader makes of it.
        if (!Utf8.IsValid(json))
            throw new ModelFormatException(path, "the header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"the header is not valid JSON: {e.Message}", null, e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(path, $"the header is not a JSON object (it is {Describe(root.ValueKind)})");

            var tensors = new List<TensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                string name = property.Name;
                // JSON allows repeated keys and System.Text.Json keeps both; a repeated tensor
                // name would be ambiguous, so it is an error.
                if (!seen.Add(name))
                    throw new ModelFormatException(path, "the header names this entry more than once", name == MetadataKey ? null : name);

                if (name == MetadataKey)
                    ParseMetadata(path, property.Value, metadata);
                else
                    tensors.Add(ParseTensor(path, name, property.Value, dataLength));
            }

            CheckNoOverlap(path, tensors);
            return new Parsed(tensors, metadata);
        }
    }

    private static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null)
            return;
        if (value.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, $"\"{MetadataKey}\" is {Describe(value.ValueKind)}, not an object of strings");
        foreach (JsonProperty entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new ModelFormatException(path, $"\"{MetadataKey}\" value for \"{entry.Name}\" is {Describe(entry.Value.ValueKind)}, not a string");
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static TensorInfo ParseTensor(string path, string name, JsonElement entry, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, $"the header entry is {Describe(entry.ValueKind)}, not an object", name);

        JsonElement dtypeElement = Required(path, name, entry, "dtype");
        if (dtypeElement.ValueKind != JsonValueKind.String)
            throw new ModelFormatException(path, $"\"dtype\" is {Describe(dtypeElement.ValueKind)}, not a string", name);
        string dtypeText = dtypeElement.GetString()!;
        if (!TensorDTypes.TryParse(dtypeText, out TensorDType dtype))
            throw new ModelFormatException(path, $"unknown dtype \"{dtypeText}\"", name);

        long[] shape = ReadIntegers(path, name, Required(path, name, entry, "shape"), "shape", expectedCount: null);
        foreach (long dim in shape)
        {
            if (dim < 0)
                throw new ModelFormatException(path, $"negative dimension in shape {TensorInfo.FormatShape(shape)}", name);
        }

        long[] offsets = ReadIntegers(path, name, Required(path, name, entry, "data_offsets"), "data_offsets", expectedCount: 2);
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < 0)
            throw new ModelFormatException(path, $"negative data_offsets [{begin}, {end}]", name);
        if (begin > end)
            throw new ModelFormatException(path, $"data_offsets [{begin}, {end}] have begin after end", name);
        if (end > dataLength)
            throw new ModelFormatException(path,
                $"data_offsets [{begin}, {end}] run past the end of the data section ({dataLength} bytes); the file may be truncated", name);

        // Overflow-checked: a shape such as [2^40, 2^40] must be an error, not a wrapped product
        // that happens to match the offsets.
        long expectedBytes;
        try
        {
            long count = 1;
            foreach (long dim in shape)
                count = checked(count * dim);
            expectedBytes = checked(count * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            throw new ModelFormatException(path, $"shape {TensorInfo.FormatShape(shape)} has too many elements", name);
        }

        if (end - begin != expectedBytes)
            throw new ModelFormatException(path,
                $"data_offsets [{begin}, {end}] span {end - begin} bytes, but {dtype} with shape {TensorInfo.FormatShape(shape)} needs {expectedBytes}", name);

        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static JsonElement Required(string path, string name, JsonElement entry, string key) =>
        entry.TryGetProperty(key, out JsonElement value)
            ? value
            : throw new ModelFormatException(path, $"the header entry has no \"{key}\"", name);

    private static long[] ReadIntegers(string path, string name, JsonElement array, string key, int? expectedCount)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException(path, $"\"{key}\" is {Describe(array.ValueKind)}, not an array", name);
        int length = array.GetArrayLength();
        if (expectedCount is int n && length != n)
            throw new ModelFormatException(path, $"\"{key}\" has {length} elements instead of {n}", name);

        var values = new long[length];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            // TryGetInt64 rejects fractions, exponents and values beyond the long range.
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out values[i]))
                throw new ModelFormatException(path, $"\"{key}\" element {i} ({item.GetRawText()}) is not a 64-bit integer", name);
            i++;
        }
        return values;
    }

    /// <summary>
    /// Two tensors sharing bytes would alias each other's data. Sorting by begin reduces the check
    /// to comparing each tensor with the furthest end seen so far. Empty tensors occupy no bytes
    /// and cannot overlap anything. Gaps are allowed (the reference implementation requires the
    /// tensors to tile the buffer exactly; being lenient here loses no safety).
    /// </summary>
    private static void CheckNoOverlap(string path, List<TensorInfo> tensors)
    {
        var sorted = tensors.Where(t => t.End > t.Begin).ToArray();
        Array.Sort(sorted, (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        TensorInfo? furthest = null;
        foreach (TensorInfo t in sorted)
        {
            if (furthest is not null && t.Begin < furthest.End)
                throw new ModelFormatException(path,
                    $"data_offsets [{t.Begin}, {t.End}] overlap those of tensor '{furthest.Name}' [{furthest.Begin}, {furthest.End}]", t.Name);
            if (furthest is null || t.End > furthest.End)
                furthest = t;
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };
}
