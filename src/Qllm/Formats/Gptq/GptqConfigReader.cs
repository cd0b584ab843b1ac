using System.Text.Json;
using Qllm.Common;
using Qllm.Formats.HuggingFace;
using Qllm.Formats.Safetensors;

namespace Qllm.Formats.Gptq;

/// <summary>
/// Decides whether a Hugging Face folder is a GPTQ checkpoint and reads its settings: the
/// <c>quantization_config</c> of config.json, else AutoGPTQ's quantize_config.json (older AutoGPTQ checkpoints
/// have only that). A folder whose tensors are packed (<c>*.qweight</c>) without either is refused, as is any
/// quantization method other than GPTQ: reading packed tensors as plain weights would give garbage.
/// </summary>
public static class GptqConfigReader
{
    public const string QuantizeConfigFileName = "quantize_config.json";

    /// <summary>The folder's GPTQ settings, or null for an unquantized checkpoint.</summary>
    public static GptqCheckpointInfo? Read(string folder, SafetensorsCheckpoint weights)
    {
        string configPath = Path.Combine(folder, "config.json");
        if (Section(configPath, "quantization_config") is { } fromConfig) return Parse(fromConfig, configPath);
        string quantizePath = Path.Combine(folder, QuantizeConfigFileName);
        if (File.Exists(quantizePath) && Section(quantizePath, null) is { } fromFile) return Parse(fromFile, quantizePath);
        string? packed = weights.Names.FirstOrDefault(n => n.EndsWith(".qweight", StringComparison.Ordinal));
        if (packed != null)
            throw new ModelFormatException(configPath,
                $"the checkpoint holds GPTQ-packed tensors (such as '{packed}') but config.json has no quantization_config and there is no {QuantizeConfigFileName}");
        return null;
    }

    /// <summary>The named object of a JSON file (the root when <paramref name="name"/> is null), or null when absent.</summary>
    private static JsonElement? Section(string path, string? name)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            if (name is null) return root.Clone();
            return root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var section) && section.ValueKind != JsonValueKind.Null
                ? section.Clone() : null;
        }
        catch (JsonException e) { throw new ModelFormatException(path, $"not valid JSON ({e.Message})"); }
    }

    private static GptqCheckpointInfo Parse(JsonElement json, string path)
    {
        if (json.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "quantization_config is not a JSON object");
        try { return Parse(new JsonFields(json, path)); }
        catch (FormatException e) { throw new ModelFormatException(path, e.Message); }
    }

    private static GptqCheckpointInfo Parse(JsonFields f)
    {
        string method = f.String("quant_method", "gptq");
        if (method != "gptq")
            throw new FormatException($"quant_method '{method}' is not supported (only GPTQ checkpoints, quant_method \"gptq\", can be loaded)");
        if (f.Bool("is_marlin_format", false))
            throw new FormatException("Marlin-repacked GPTQ checkpoints (is_marlin_format) are not supported; use the original GPTQ checkpoint");
        string format = f.String("checkpoint_format", GptqCheckpointInfo.GptqFormat);
        if (format is not (GptqCheckpointInfo.GptqFormat or GptqCheckpointInfo.GptqV2Format))
            throw new FormatException($"checkpoint_format '{format}' is not supported (supported: gptq, gptq_v2)");

        int bits = f.Int("bits");
        if (!GptqPacking.SupportedBits.Contains(bits))
            throw new FormatException($"GPTQ with {bits} bits is not supported (supported: {string.Join(", ", GptqPacking.SupportedBits)})");
        int group = f.OptionalInt("group_size") ?? -1;
        if (group == 0 || group < -1) throw new FormatException($"group_size {group} is neither a positive size nor -1 (per channel)");
        return new GptqCheckpointInfo(bits, group,
            DescAct: f.Bool("desc_act", false),
            Symmetric: f.Bool("sym", true),
            TrueSequential: f.Bool("true_sequential", true),
            DampPercent: f.Double("damp_percent", 0.01),
            CheckpointFormat: format);
    }
}
