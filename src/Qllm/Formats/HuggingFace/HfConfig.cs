using System.Text.Json;
using Qllm.Common;
using Qllm.Models;

namespace Qllm.Formats.HuggingFace;

/// <summary>
/// Parses a Hugging Face <c>config.json</c> into a <see cref="ModelConfig"/>, with each field's
/// transformers default where the file leaves it out. Unsupported architectures are refused by name.
/// </summary>
public static class HfConfig
{
    public static readonly IReadOnlyList<string> SupportedArchitectures =
        ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "OPTForCausalLM"];

    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new ModelFormatException(path, $"not valid JSON ({e.Message})"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "config is not a JSON object");
            try { return Parse(document.RootElement, path); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException)
            {
                throw new ModelFormatException(path, e.Message);
            }
        }
    }

    public static ModelConfig Parse(JsonElement root, string path)
    {
        string architecture = ArchitectureOf(root, path);
        var json = new JsonFields(root, path);
        return architecture == "OPTForCausalLM" ? ParseOpt(json, architecture) : ParseLlama(json, architecture);
    }

    private static string ArchitectureOf(JsonElement root, string path)
    {
        string? architecture = null;
        if (root.TryGetProperty("architectures", out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0)
            architecture = list[0].GetString();
        else if (root.TryGetProperty("model_type", out var type))
            architecture = type.GetString() switch
            {
                "llama" => "LlamaForCausalLM",
                "mistral" => "MistralForCausalLM",
                "qwen2" => "Qwen2ForCausalLM",
                "opt" => "OPTForCausalLM",
                var other => other,
            };
        if (architecture is null) throw new ModelFormatException(path, "neither 'architectures' nor 'model_type' says what the model is");
        if (!SupportedArchitectures.Contains(architecture))
            throw new ModelFormatException(path, $"architecture '{architecture}' is not supported (supported: {string.Join(", ", SupportedArchitectures)})");
        return architecture;
    }

    private static ModelConfig ParseLlama(JsonFields f, string architecture)
    {
        string activation = f.String("hidden_act", "silu");
        if (activation != "silu") throw new FormatException($"hidden_act '{activation}' is not supported (LLaMA-family models use silu)");
        int hidden = f.Int("hidden_size"), heads = f.Int("num_attention_heads");
        bool isQwen2 = architecture == "Qwen2ForCausalLM";
        int? slidingWindow = f.OptionalInt("sliding_window");
        if (isQwen2 && !f.Bool("use_sliding_window", false)) slidingWindow = null;
        return new ModelConfig
        {
            Architecture = architecture,
            Family = ModelFamily.Llama,
            HiddenSize = hidden,
            IntermediateSize = f.Int("intermediate_size"),
            NumLayers = f.Int("num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = f.OptionalInt("num_key_value_heads") ?? heads,
            HeadDim = f.OptionalInt("head_dim") ?? hidden / heads,
            VocabSize = f.Int("vocab_size"),
            MaxPositions = f.OptionalInt("max_position_embeddings") ?? 2048,
            NormEps = (float)f.Double("rms_norm_eps", 1e-6),
            RopeTheta = f.Double("rope_theta", 10000),
            RopeScaling = RopeScalingOf(f),
            QkvBias = isQwen2 || f.Bool("attention_bias", false),
            SlidingWindow = slidingWindow,
            TieWordEmbeddings = f.Bool("tie_word_embeddings", false),
            BosTokenId = f.OptionalInt("bos_token_id"),
            EosTokenIds = f.IntList("eos_token_id"),
        };
    }

    private static ModelConfig ParseOpt(JsonFields f, string architecture)
    {
        string activation = f.String("activation_function", "relu");
        if (activation != "relu") throw new FormatException($"activation_function '{activation}' is not supported (OPT uses relu)");
        if (!f.Bool("layer_norm_elementwise_affine", true)) throw new FormatException("layer_norm_elementwise_affine = false is not supported");
        if (!f.Bool("enable_bias", true)) throw new FormatException("enable_bias = false is not supported");
        int hidden = f.Int("hidden_size"), heads = f.Int("num_attention_heads");
        return new ModelConfig
        {
            Architecture = architecture,
            Family = ModelFamily.Opt,
            HiddenSize = hidden,
            IntermediateSize = f.Int("ffn_dim"),
            NumLayers = f.Int("num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = heads,
            HeadDim = hidden / heads,
            VocabSize = f.Int("vocab_size"),
            MaxPositions = f.OptionalInt("max_position_embeddings") ?? 2048,
            NormEps = 1e-5f,
            DoLayerNormBefore = f.Bool("do_layer_norm_before", true),
            WordEmbedProjDim = f.OptionalInt("word_embed_proj_dim") ?? hidden,
            TieWordEmbeddings = f.Bool("tie_word_embeddings", true),
            BosTokenId = f.OptionalInt("bos_token_id") ?? 2,
            EosTokenIds = f.IntList("eos_token_id") is { Count: > 0 } eos ? eos : [2],
        };
    }

    private static RopeScaling? RopeScalingOf(JsonFields f)
    {
        if (!f.Root.TryGetProperty("rope_scaling", out var s) || s.ValueKind == JsonValueKind.Null) return null;
        var scaling = new JsonFields(s, f.Path);
        string type = scaling.OptionalString("rope_type") ?? scaling.OptionalString("type")
            ?? throw new FormatException("rope_scaling has no rope_type");
        if (type == "default") return null;
        return new RopeScaling(type, scaling.Double("factor", 1),
            scaling.Double("low_freq_factor", 1), scaling.Double("high_freq_factor", 4),
            scaling.OptionalInt("original_max_position_embeddings") ?? 8192);
    }
}
