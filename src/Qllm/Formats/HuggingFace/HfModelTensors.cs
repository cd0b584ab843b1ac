using Qllm.Common;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Models.Llama;
using Qllm.Models.Opt;

namespace Qllm.Formats.HuggingFace;

/// <summary>A full-precision tensor under its Hugging Face name.</summary>
public sealed record NamedTensor(string Name, long[] Shape, float[] Values);

/// <summary>
/// A model's parameters under the names <see cref="HfModelLoader"/> and transformers read: the plain tensors
/// (embeddings, norms, an untied LM head) and the linear layers, which a writer may store as it likes
/// (weight and bias, or GPTQ-packed). The inverse of <see cref="HfModelLoader"/>.
/// </summary>
public sealed class HfModelTensors
{
    private HfModelTensors(IReadOnlyList<NamedTensor> plain, IReadOnlyList<(string Name, ILinear Layer)> linears, bool tiedHead)
    {
        Plain = plain;
        Linears = linears;
        TiedHead = tiedHead;
    }

    public IReadOnlyList<NamedTensor> Plain { get; }

    /// <summary>The blocks' linear layers (named as their <see cref="LinearSlot"/>) and OPT's project_in/out.</summary>
    public IReadOnlyList<(string Name, ILinear Layer)> Linears { get; }

    /// <summary>True when the head shares the embedding's storage, so no lm_head.weight is written.</summary>
    public bool TiedHead { get; }

    public static HfModelTensors Of(CausalLanguageModel model) => model switch
    {
        LlamaModel llama => OfLlama(llama),
        OptModel opt => OfOpt(opt),
        _ => throw new QllmException($"a {model.GetType().Name} cannot be written as a Hugging Face checkpoint."),
    };

    private static HfModelTensors OfLlama(LlamaModel m)
    {
        var c = m.Config;
        var plain = new List<NamedTensor> { new("model.embed_tokens.weight", [c.VocabSize, c.HiddenSize], m.EmbeddingTable) };
        foreach (var b in m.LlamaBlocks)
        {
            string p = $"model.layers.{b.Index}.";
            plain.Add(new(p + "input_layernorm.weight", [c.HiddenSize], b.InputNorm.Weight));
            plain.Add(new(p + "post_attention_layernorm.weight", [c.HiddenSize], b.PostAttentionNorm.Weight));
        }
        plain.Add(new("model.norm.weight", [c.HiddenSize], m.FinalNorm.Weight));
        return WithHead(m, m.EmbeddingTable, plain, BlockLinears(m));
    }

    private static HfModelTensors OfOpt(OptModel m)
    {
        var c = m.Config;
        const string p0 = "model.decoder.";
        var plain = new List<NamedTensor>
        {
            new(p0 + "embed_tokens.weight", [c.VocabSize, c.WordEmbedProjDim], m.EmbeddingTable),
            new(p0 + "embed_positions.weight", [c.MaxPositions + OptModel.PositionOffset, c.HiddenSize], m.PositionTable),
        };
        foreach (var b in m.OptBlocks)
        {
            string p = $"{p0}layers.{b.Index}.";
            AddLayerNorm(plain, p + "self_attn_layer_norm", b.SelfAttentionNorm, c.HiddenSize);
            AddLayerNorm(plain, p + "final_layer_norm", b.FinalNorm, c.HiddenSize);
        }
        if (m.FinalNorm != null) AddLayerNorm(plain, p0 + "final_layer_norm", m.FinalNorm, c.HiddenSize);
        var linears = BlockLinears(m);
        if (m.ProjectIn != null) linears.Add((p0 + "project_in", m.ProjectIn));
        if (m.ProjectOut != null) linears.Add((p0 + "project_out", m.ProjectOut));
        return WithHead(m, m.EmbeddingTable, plain, linears);
    }

    private static List<(string, ILinear)> BlockLinears(CausalLanguageModel m) => m.BlockLinears().Select(s => (s.Name, s.Layer)).ToList();

    private static void AddLayerNorm(List<NamedTensor> plain, string name, LayerNormLayer norm, int size)
    {
        plain.Add(new(name + ".weight", [size], norm.Weight));
        plain.Add(new(name + ".bias", [size], norm.Bias!));
    }

    private static HfModelTensors WithHead(CausalLanguageModel m, float[] embedding, List<NamedTensor> plain, List<(string, ILinear)> linears)
    {
        bool tied = m.Head.Layer is DenseLinear dense && ReferenceEquals(dense.Weight, embedding);
        if (!tied)
        {
            var (weight, _) = WeightsOf(m.Head.Name, m.Head.Layer);
            plain.Add(new("lm_head.weight", [m.Config.VocabSize, m.Config.HeadInputDim], weight));
        }
        return new HfModelTensors(plain, linears, tied);
    }

    /// <summary>
    /// The full-precision weight [out, in] and bias of a layer. Layers that hold only an approximation of
    /// their weights (fake-quantized, activation-quantized, packed) are refused: writing them as plain weights
    /// would silently lose what makes them what they are.
    /// </summary>
    public static (float[] Weight, float[]? Bias) WeightsOf(string name, ILinear layer) => layer switch
    {
        DenseLinear dense => (dense.Weight, dense.Bias),
        Bf16Linear bf16 => (bf16.Packed.Unpack(), bf16.Bias),
        _ => throw new QllmException($"layer '{name}' ({layer.Kind}) cannot be written as plain weights; quantized layers are saved with the GPTQ writer."),
    };

    /// <summary>The bias of a layer whose weights are saved in another form (GPTQ-packed).</summary>
    public static float[]? BiasOf(string name, ILinear layer) => layer is IHasBias withBias ? withBias.Bias
        : throw new QllmException($"the bias of layer '{name}' ({layer.Kind}) cannot be read: the layer does not implement {nameof(IHasBias)}.");
}
