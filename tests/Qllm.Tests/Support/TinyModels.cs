using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Models.Llama;
using Qllm.Models.Opt;

namespace Qllm.Tests.Support;

/// <summary>Small LLaMA and OPT models built in memory from the deterministic generator.</summary>
public static class TinyModels
{
    public static LlamaModel Llama(int vocab = 32, int dim = 16, int hidden = 24, int layers = 2, int heads = 4, int kvHeads = 2,
        int maxPositions = 64, bool zeroHead = false)
    {
        var config = new ModelConfig
        {
            Architecture = "LlamaForCausalLM", Family = ModelFamily.Llama, HiddenSize = dim, IntermediateSize = hidden,
            NumLayers = layers, NumHeads = heads, NumKvHeads = kvHeads, HeadDim = dim / heads, VocabSize = vocab,
            MaxPositions = maxPositions, BosTokenId = 1, EosTokenIds = [2],
        };
        int kv = kvHeads * (dim / heads);
        DenseLinear Linear(string name, int outF, int inF) =>
            new(DeterministicWeights.Generate(name, outF * inF, 1f / MathF.Sqrt(inF)), outF, inF);
        var blocks = Enumerable.Range(0, layers).Select(l => new LlamaBlockWeights(
            DeterministicWeights.Generate($"n1.{l}", dim, 0.1f, 1f), DeterministicWeights.Generate($"n2.{l}", dim, 0.1f, 1f),
            Linear($"q.{l}", dim, dim), Linear($"k.{l}", kv, dim), Linear($"v.{l}", kv, dim), Linear($"o.{l}", dim, dim),
            Linear($"g.{l}", hidden, dim), Linear($"u.{l}", hidden, dim), Linear($"d.{l}", dim, hidden))).ToList();
        float[] head = zeroHead ? new float[vocab * dim] : DeterministicWeights.Generate("head", vocab * dim, 0.5f);
        return new LlamaModel(config, DeterministicWeights.Generate("embed", vocab * dim, 1f), blocks,
            DeterministicWeights.Generate("norm", dim, 0.1f, 1f), head);
    }

    /// <summary>A pre-LN OPT with biases everywhere and a tied head.</summary>
    public static OptModel Opt(int vocab = 32, int dim = 16, int hidden = 24, int layers = 2, int heads = 4, int maxPositions = 64)
    {
        var config = new ModelConfig
        {
            Architecture = "OPTForCausalLM", Family = ModelFamily.Opt, HiddenSize = dim, IntermediateSize = hidden,
            NumLayers = layers, NumHeads = heads, NumKvHeads = heads, HeadDim = dim / heads, VocabSize = vocab,
            MaxPositions = maxPositions, BosTokenId = 2, EosTokenIds = [2], WordEmbedProjDim = dim,
        };
        DenseLinear Linear(string name, int outF, int inF) =>
            new(DeterministicWeights.Generate(name, outF * inF, 1f / MathF.Sqrt(inF)), outF, inF, DeterministicWeights.Generate(name + ".b", outF, 0.1f));
        LayerNormLayer Norm(string name) =>
            new(DeterministicWeights.Generate(name, dim, 0.1f, 1f), DeterministicWeights.Generate(name + ".b", dim, 0.1f), 1e-5f);
        var blocks = Enumerable.Range(0, layers).Select(l => new OptBlockWeights(Norm($"ln1.{l}"), Norm($"ln2.{l}"),
            Linear($"oq.{l}", dim, dim), Linear($"ok.{l}", dim, dim), Linear($"ov.{l}", dim, dim), Linear($"oo.{l}", dim, dim),
            Linear($"f1.{l}", hidden, dim), Linear($"f2.{l}", dim, hidden))).ToList();
        return new OptModel(config, DeterministicWeights.Generate("oembed", vocab * dim, 1f),
            DeterministicWeights.Generate("opos", (maxPositions + OptModel.PositionOffset) * dim, 0.5f), blocks, Norm("lnf"), null, null, null);
    }
}
