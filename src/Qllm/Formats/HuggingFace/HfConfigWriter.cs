using System.Globalization;
using System.Text.Json.Nodes;
using Qllm.Models;

namespace Qllm.Formats.HuggingFace;

/// <summary>
/// Writes a <see cref="ModelConfig"/> as a Hugging Face config.json object: the fields <see cref="HfConfig"/>
/// reads back to the same config, and those transformers needs to build the model class. A model from a
/// llama2.c checkpoint (or a random one) is written as LlamaForCausalLM.
/// </summary>
public static class HfConfigWriter
{
    /// <param name="tiedHead">Whether the written checkpoint leaves out lm_head.weight (the head is the embedding).</param>
    /// <param name="torchDtype">transformers' torch_dtype of the stored tensors: "float32", "float16" or "bfloat16".</param>
    public static JsonObject Build(ModelConfig c, bool tiedHead, string torchDtype, bool attentionBias = false, bool mlpBias = false)
    {
        string architecture = HfConfig.SupportedArchitectures.FirstOrDefault(a => c.Architecture.StartsWith(a, StringComparison.Ordinal))
            ?? (c.Family == ModelFamily.Opt ? "OPTForCausalLM" : "LlamaForCausalLM");
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(architecture),
            ["model_type"] = architecture switch
            {
                "MistralForCausalLM" => "mistral",
                "Qwen2ForCausalLM" => "qwen2",
                "OPTForCausalLM" => "opt",
                _ => "llama",
            },
            ["hidden_size"] = c.HiddenSize,
            ["num_hidden_layers"] = c.NumLayers,
            ["num_attention_heads"] = c.NumHeads,
            ["vocab_size"] = c.VocabSize,
            ["max_position_embeddings"] = c.MaxPositions,
            ["tie_word_embeddings"] = tiedHead,
            ["bos_token_id"] = c.BosTokenId,
            ["eos_token_id"] = c.EosTokenIds.Count == 1 ? c.EosTokenIds[0] : new JsonArray(c.EosTokenIds.Select(id => (JsonNode)id).ToArray()),
            ["torch_dtype"] = torchDtype,
        };
        if (c.Family == ModelFamily.Opt) AddOpt(json, c);
        else AddLlama(json, c, architecture, attentionBias, mlpBias);
        return json;
    }

    private static void AddLlama(JsonObject json, ModelConfig c, string architecture, bool attentionBias, bool mlpBias)
    {
        json["intermediate_size"] = c.IntermediateSize;
        json["num_key_value_heads"] = c.NumKvHeads;
        json["head_dim"] = c.HeadDim;
        json["hidden_act"] = "silu";
        json["rms_norm_eps"] = Shortest(c.NormEps);
        json["rope_theta"] = c.RopeTheta;
        if (c.RopeScaling is { } s)
            json["rope_scaling"] = s.Type == "llama3"
                ? new JsonObject
                {
                    ["rope_type"] = s.Type, ["factor"] = s.Factor, ["low_freq_factor"] = s.LowFreqFactor,
                    ["high_freq_factor"] = s.HighFreqFactor, ["original_max_position_embeddings"] = s.OriginalMaxPositions,
                }
                : new JsonObject { ["rope_type"] = s.Type, ["factor"] = s.Factor };
        switch (architecture)
        {
            case "Qwen2ForCausalLM":   // q/k/v biases are implied; the window is off unless asked for
                json["use_sliding_window"] = c.SlidingWindow != null;
                json["sliding_window"] = c.SlidingWindow;
                break;
            case "MistralForCausalLM":
                json["sliding_window"] = c.SlidingWindow;
                break;
            default:
                json["attention_bias"] = attentionBias;
                json["mlp_bias"] = mlpBias;
                break;
        }
    }

    private static void AddOpt(JsonObject json, ModelConfig c)
    {
        json["ffn_dim"] = c.IntermediateSize;
        json["word_embed_proj_dim"] = c.WordEmbedProjDim;
        json["do_layer_norm_before"] = c.DoLayerNormBefore;
        json["activation_function"] = "relu";
        json["enable_bias"] = true;
        json["layer_norm_elementwise_affine"] = true;
        json["pad_token_id"] = 1;
    }

    /// <summary>A float config value as its shortest decimal (1e-5 rather than 9.99999974737875E-06), which parses back to the same float.</summary>
    private static double Shortest(float value) => double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
