using Qllm.Common;
using Qllm.Formats.Gptq;
using Qllm.Formats.Safetensors;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Models.Llama;
using Qllm.Models.Opt;

namespace Qllm.Formats.HuggingFace;

/// <summary>
/// Loads a Hugging Face model folder (config.json + model.safetensors or its shards) into the model
/// family's classes. Tensors are read from the memory-mapped files one at a time into fp32; each
/// missing tensor or wrong shape is reported with the file and tensor name.
/// A GPTQ checkpoint (see <see cref="GptqConfigReader"/>) has its block linears read from the packed tensors
/// and built by <see cref="ModelLoadOptions.GptqLinearFactory"/>; everything else is read as usual.
/// </summary>
public static class HfModelLoader
{
    public static CausalLanguageModel Load(string folder, ModelLoadOptions? options = null)
    {
        var config = HfConfig.Load(Path.Combine(folder, "config.json"));
        using var weights = SafetensorsCheckpoint.OpenFolder(folder);
        var gptq = GptqConfigReader.Read(folder, weights);
        var reader = new TensorReader(weights, folder, gptq, options ?? ModelLoadOptions.Default);
        return config.Family == ModelFamily.Opt ? LoadOpt(config, reader) : LoadLlama(config, reader);
    }

    private static LlamaModel LoadLlama(ModelConfig c, TensorReader r)
    {
        int d = c.HiddenSize;
        float[] embedding = r.Read("model.embed_tokens.weight", c.VocabSize, d);
        var blocks = new LlamaBlockWeights[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            blocks[l] = new LlamaBlockWeights(
                r.Read(p + "input_layernorm.weight", d),
                r.Read(p + "post_attention_layernorm.weight", d),
                Q: r.Linear(p + "self_attn.q_proj", c.QDim, d),
                K: r.Linear(p + "self_attn.k_proj", c.KvDim, d),
                V: r.Linear(p + "self_attn.v_proj", c.KvDim, d),
                O: r.Linear(p + "self_attn.o_proj", d, c.QDim),
                Gate: r.Linear(p + "mlp.gate_proj", c.IntermediateSize, d),
                Up: r.Linear(p + "mlp.up_proj", c.IntermediateSize, d),
                Down: r.Linear(p + "mlp.down_proj", d, c.IntermediateSize));
        }
        float[] norm = r.Read("model.norm.weight", d);
        float[]? head = c.TieWordEmbeddings ? null : r.Read("lm_head.weight", c.VocabSize, d);
        return new LlamaModel(c, embedding, blocks, norm, head);
    }

    private static OptModel LoadOpt(ModelConfig c, TensorReader r)
    {
        int d = c.HiddenSize, e = c.WordEmbedProjDim;
        const string p0 = "model.decoder.";
        float[] embedding = r.Read(p0 + "embed_tokens.weight", c.VocabSize, e);
        float[] positions = r.Read(p0 + "embed_positions.weight", c.MaxPositions + OptModel.PositionOffset, d);
        var blocks = new OptBlockWeights[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"{p0}layers.{l}.";
            blocks[l] = new OptBlockWeights(
                r.LayerNorm(p + "self_attn_layer_norm", d, c.NormEps),
                r.LayerNorm(p + "final_layer_norm", d, c.NormEps),
                Q: r.Linear(p + "self_attn.q_proj", d, d),
                K: r.Linear(p + "self_attn.k_proj", d, d),
                V: r.Linear(p + "self_attn.v_proj", d, d),
                Out: r.Linear(p + "self_attn.out_proj", d, d),
                Fc1: r.Linear(p + "fc1", c.IntermediateSize, d),
                Fc2: r.Linear(p + "fc2", d, c.IntermediateSize));
        }
        // HF builds the decoder's final LayerNorm only for pre-LN models (do_layer_norm_before).
        var finalNorm = c.DoLayerNormBefore ? r.LayerNorm(p0 + "final_layer_norm", d, c.NormEps) : null;
        // AutoGPTQ quantizes only the blocks' linears; project_in/out stay plain.
        DenseLinear? projectIn = e != d ? r.Dense(p0 + "project_in", d, e, bias: false) : null;
        DenseLinear? projectOut = e != d ? r.Dense(p0 + "project_out", e, d, bias: false) : null;
        float[]? head = c.TieWordEmbeddings || !r.Has("lm_head.weight") ? null : r.Read("lm_head.weight", c.VocabSize, e);
        return new OptModel(c, embedding, positions, blocks, finalNorm, projectIn, projectOut, head);
    }

    private sealed class TensorReader(SafetensorsCheckpoint weights, string folder, GptqCheckpointInfo? gptq, ModelLoadOptions options)
    {
        private readonly GptqLayerReader? _gptq = gptq is null ? null : new GptqLayerReader(weights, folder, gptq);

        /// <summary>
        /// The name as stored: some checkpoints were saved from the bare decoder (OPTModel, LlamaModel)
        /// and lack the "model." prefix of the *ForCausalLM classes.
        /// </summary>
        private string Stored(string name) =>
            !weights.Contains(name) && name.StartsWith("model.", StringComparison.Ordinal) && weights.Contains(name[6..]) ? name[6..] : name;

        public bool Has(string name) => weights.Contains(Stored(name));

        public float[] Read(string name, params long[] shape)
        {
            name = Stored(name);
            if (!weights.Contains(name)) throw new ModelFormatException(folder, "missing tensor", name);
            var info = weights.Info(name);
            if (!info.Shape.SequenceEqual(shape))
                throw new ModelFormatException(weights.FileOf(name), $"shape [{string.Join(", ", info.Shape)}] does not match the config's [{string.Join(", ", shape)}]", name);
            return weights.ReadFloat32(name);
        }

        /// <summary>A block's linear layer: GPTQ-packed in a GPTQ checkpoint, else as <see cref="Dense"/>.</summary>
        public ILinear Linear(string name, int outFeatures, int inFeatures)
        {
            if (_gptq is null) return Dense(name, outFeatures, inFeatures);
            var quantized = _gptq.Read(Stored(name + ".qweight")[..^8], outFeatures, inFeatures);
            return options.GptqLinearFactory(quantized, Bias(name, outFeatures));
        }

        /// <summary>A linear layer "{name}.weight" [out, in], with "{name}.bias" when the checkpoint has one.</summary>
        public DenseLinear Dense(string name, int outFeatures, int inFeatures, bool bias = true) =>
            new(Read(name + ".weight", outFeatures, inFeatures), outFeatures, inFeatures, bias ? Bias(name, outFeatures) : null);

        private float[]? Bias(string name, int outFeatures) => Has(name + ".bias") ? Read(name + ".bias", outFeatures) : null;

        public LayerNormLayer LayerNorm(string name, int size, float eps) =>
            new(Read(name + ".weight", size), Read(name + ".bias", size), eps);
    }
}
