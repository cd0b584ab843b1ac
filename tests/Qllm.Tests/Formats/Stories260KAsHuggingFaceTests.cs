using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Qllm.Evaluation;
using Qllm.Formats.HuggingFace;
using Qllm.Formats.Safetensors;
using Qllm.Models;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Formats;

/// <summary>
/// The stories260K weights, converted to a HF LlamaForCausalLM folder by this test's own reader of the
/// llama2.c file and its own q/k permutation (HF's convert_llama_weights_to_hf permute, written
/// independently of the library's RopeLayout), must compute what the llama2.c path computes.
/// </summary>
public class Stories260KAsHuggingFaceTests
{
    private const int Dim = 64, Hidden = 172, Layers = 5, Heads = 8, KvHeads = 4, Vocab = 512, SeqLen = 512;

    /// <summary>Reads the legacy llama2.c file and writes it as a HF folder (tied or untied head).</summary>
    private static void Convert(string folder, bool tied, TensorDType dtype = TensorDType.F32)
    {
        byte[] bytes = File.ReadAllBytes(SharedModels.Stories260KCheckpoint);
        var floats = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(28)).ToArray();
        int offset = 0;
        float[] Next(int count) { var v = floats.AsSpan(offset, count).ToArray(); offset += count; return v; }
        int kvDim = Dim / Heads * KvHeads;
        float[] embedding = Next(Vocab * Dim);
        var attNorm = Enumerable.Range(0, Layers).Select(_ => Next(Dim)).ToArray();
        var wq = Enumerable.Range(0, Layers).Select(_ => Next(Dim * Dim)).ToArray();
        var wk = Enumerable.Range(0, Layers).Select(_ => Next(kvDim * Dim)).ToArray();
        var wv = Enumerable.Range(0, Layers).Select(_ => Next(kvDim * Dim)).ToArray();
        var wo = Enumerable.Range(0, Layers).Select(_ => Next(Dim * Dim)).ToArray();
        var ffnNorm = Enumerable.Range(0, Layers).Select(_ => Next(Dim)).ToArray();
        var w1 = Enumerable.Range(0, Layers).Select(_ => Next(Hidden * Dim)).ToArray();
        var w2 = Enumerable.Range(0, Layers).Select(_ => Next(Dim * Hidden)).ToArray();
        var w3 = Enumerable.Range(0, Layers).Select(_ => Next(Hidden * Dim)).ToArray();
        float[] finalNorm = Next(Dim);

        var tensors = new List<(string, long[], float[])> { ("model.embed_tokens.weight", [Vocab, Dim], embedding), ("model.norm.weight", [Dim], finalNorm) };
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            tensors.Add((p + "input_layernorm.weight", [Dim], attNorm[l]));
            tensors.Add((p + "post_attention_layernorm.weight", [Dim], ffnNorm[l]));
            tensors.Add((p + "self_attn.q_proj.weight", [Dim, Dim], Permute(wq[l], Heads, Dim, Dim)));
            tensors.Add((p + "self_attn.k_proj.weight", [kvDim, Dim], Permute(wk[l], KvHeads, kvDim, Dim)));
            tensors.Add((p + "self_attn.v_proj.weight", [kvDim, Dim], wv[l]));
            tensors.Add((p + "self_attn.o_proj.weight", [Dim, Dim], wo[l]));
            tensors.Add((p + "mlp.gate_proj.weight", [Hidden, Dim], w1[l]));
            tensors.Add((p + "mlp.down_proj.weight", [Dim, Hidden], w2[l]));
            tensors.Add((p + "mlp.up_proj.weight", [Hidden, Dim], w3[l]));
        }
        if (!tied) tensors.Add(("lm_head.weight", [Vocab, Dim], (float[])embedding.Clone()));
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama",
            ["hidden_size"] = Dim, ["intermediate_size"] = Hidden, ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads, ["num_key_value_heads"] = KvHeads, ["vocab_size"] = Vocab,
            ["max_position_embeddings"] = SeqLen, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = tied, ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["hidden_act"] = "silu",
        };
        HfCheckpointWriter.Write(folder, config, tensors, dtype);
    }

    /// <summary>HF's permute: w.view(heads, rows/heads/2, 2, cols).transpose(1, 2).reshape(rows, cols).</summary>
    private static float[] Permute(float[] w, int heads, int rows, int cols)
    {
        int half = rows / heads / 2;
        var result = new float[w.Length];
        for (int h = 0; h < heads; h++)
            for (int a = 0; a < half; a++)       // index along rows/heads/2
                for (int b = 0; b < 2; b++)      // index along the pair
                {
                    int source = (h * half + a) * 2 + b;      // position in view(heads, half, 2)
                    int target = (h * 2 + b) * half + a;      // position after transpose(1, 2)
                    Array.Copy(w, source * cols, result, target * cols, cols);
                }
        return result;
    }

    private static readonly int[] Tokens = [1, 403, 407, 261, 378, 429, 324, 267, 300, 425, 330, 301, 345, 261, 502, 290, 311, 270];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LogitsEqualTheLlama2cPath(bool tied)
    {
        using var folder = new TempFolder();
        Convert(folder.Path, tied);
        CausalLanguageModel hf = HfModelLoader.Load(folder.Path);
        Assert.Equal(tied, hf.Config.TieWordEmbeddings);
        ModelAssert.Close(SharedModels.Stories260K.Forward(Tokens, 1, Tokens.Length), hf.Forward(Tokens, 1, Tokens.Length), 1e-5);
    }

    [Fact]
    public void PerplexityEqualsTheLlama2cPath()
    {
        using var folder = new TempFolder();
        Convert(folder.Path, tied: true);
        var hf = HfModelLoader.Load(folder.Path);
        var tokenizer = Qllm.Tokenizers.TokenizerLoader.Load(SharedModels.Stories260KTokenizer);
        var corpus = PerplexityDatasets.Load("wikitext2", SharedData.Path("data"));
        int[] tokens = tokenizer.Encode(corpus.Text[..20000]);
        double reference = PerplexityEvaluator.Evaluate(SharedModels.Stories260K, "wikitext2", tokens, 512).Perplexity;
        double converted = PerplexityEvaluator.Evaluate(hf, "wikitext2", tokens, 512).Perplexity;
        Assert.True(Math.Abs(reference - converted) <= 1e-5 * reference, $"{reference} vs {converted}");
    }

    [Fact]
    public void Bf16WeightsStayCloseToFp32()
    {
        using var folder = new TempFolder();
        Convert(folder.Path, tied: true, TensorDType.BF16);
        var hf = HfModelLoader.Load(folder.Path);
        float[] expected = SharedModels.Stories260K.Forward(Tokens, 1, Tokens.Length);
        // bf16 keeps 8 significant bits: the logits move, but only by a few percent of their range.
        ModelAssert.Close(expected, hf.Forward(Tokens, 1, Tokens.Length), 0.05);
    }
}
