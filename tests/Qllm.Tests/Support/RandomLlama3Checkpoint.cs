using System.Text.Json.Nodes;

namespace Qllm.Tests.Support;

/// <summary>
/// A tiny random-weight LLaMA-3 checkpoint in the Hugging Face layout with the real LLaMA-3 tokenizer (128,256 ids) and a
/// tokenizer_config.json holding meta-llama/Meta-Llama-3-8B-Instruct's chat template, for running chat and generation
/// tasks end to end on the LLaMA-3 format.
/// </summary>
public static class RandomLlama3Checkpoint
{
    public const int VocabSize = 128256;

    /// <summary>The chat_template of meta-llama/Meta-Llama-3-8B-Instruct's tokenizer_config.json.</summary>
    public const string ChatTemplate =
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + " +
        "'<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}" +
        "{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    public static void Write(string folder, int maxPositions = 2048)
    {
        const int hidden = 16, intermediate = 32, layers = 2, heads = 4, kvHeads = 2;
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama", ["hidden_size"] = hidden,
            ["intermediate_size"] = intermediate, ["num_hidden_layers"] = layers, ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads, ["vocab_size"] = VocabSize, ["max_position_embeddings"] = maxPositions,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 500000.0, ["hidden_act"] = "silu", ["tie_word_embeddings"] = false,
            ["bos_token_id"] = 128000, ["eos_token_id"] = new JsonArray(128001, 128009), ["torch_dtype"] = "float32",
        };
        int kv = kvHeads * hidden / heads;
        var shapes = new List<(string Name, long[] Shape, float Scale, float Offset)>
        {
            ("model.embed_tokens.weight", [VocabSize, hidden], 1f, 0f), ("model.norm.weight", [hidden], 0.1f, 1f), ("lm_head.weight", [VocabSize, hidden], 0.5f, 0f),
        };
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            shapes.AddRange([
                (p + "input_layernorm.weight", [hidden], 0.1f, 1f), (p + "post_attention_layernorm.weight", [hidden], 0.1f, 1f),
                (p + "self_attn.q_proj.weight", [hidden, hidden], 0.25f, 0f), (p + "self_attn.k_proj.weight", [kv, hidden], 0.25f, 0f),
                (p + "self_attn.v_proj.weight", [kv, hidden], 0.25f, 0f), (p + "self_attn.o_proj.weight", [hidden, hidden], 0.25f, 0f),
                (p + "mlp.gate_proj.weight", [intermediate, hidden], 0.25f, 0f), (p + "mlp.up_proj.weight", [intermediate, hidden], 0.25f, 0f),
                (p + "mlp.down_proj.weight", [hidden, intermediate], 0.2f, 0f),
            ]);
        }
        HfCheckpointWriter.Write(folder, config, shapes.Select(s =>
            (s.Name, s.Shape, DeterministicWeights.Generate(s.Name, (int)s.Shape.Aggregate(1L, (a, b) => a * b), s.Scale, s.Offset))));
        File.Copy(SharedData.Path("models", "tokenizers", "llama3", "tokenizer.model"), Path.Combine(folder, "tokenizer.model"));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), new JsonObject
        {
            ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>", ["chat_template"] = ChatTemplate,
        }.ToJsonString());
    }
}
