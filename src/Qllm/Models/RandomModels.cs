using Qllm.Common;
using Qllm.Models.Layers;
using Qllm.Models.Llama;

namespace Qllm.Models;

/// <summary>
/// LLaMA-shaped models with random weights, built in memory, for speed measurements on shapes for which
/// no real checkpoint can be had here. <c>--model random:llama-110m</c> names one.
/// </summary>
public static class RandomModels
{
    public const string Prefix = "random:";

    /// <summary>Known shapes: (dim, layers, heads, kv heads, hidden, vocab, max positions).</summary>
    public static readonly IReadOnlyDictionary<string, (int Dim, int Layers, int Heads, int KvHeads, int Hidden, int Vocab, int MaxPositions)> Shapes =
        new Dictionary<string, (int, int, int, int, int, int, int)>
        {
            ["llama-15m"] = (288, 6, 6, 6, 768, 32000, 256),     // karpathy's stories15M
            ["llama-110m"] = (768, 12, 12, 12, 2048, 32000, 2048), // stories110M's shape with a 2048 context
        };

    public static bool IsRandom(string model) => model.StartsWith(Prefix, StringComparison.Ordinal);

    /// <param name="bf16">Store every linear layer (and the head) as bf16, as <c>qllm bench --dtype bf16</c> does.</param>
    /// <param name="bf16Head">Store the LM head as bf16 (true) or fp32 (false); null follows <paramref name="bf16"/>.</param>
    public static LlamaModel Create(string name, ulong seed = 1, bool bf16 = false, bool? bf16Head = null)
    {
        string shapeName = name.StartsWith(Prefix, StringComparison.Ordinal) ? name[Prefix.Length..] : name;
        if (!Shapes.TryGetValue(shapeName, out var s))
            throw new QllmException($"--model: unknown random shape '{shapeName}' (known: {string.Join(", ", Shapes.Keys)}).");
        var config = new ModelConfig
        {
            Architecture = "LlamaForCausalLM (random " + shapeName + ")", Family = ModelFamily.Llama,
            HiddenSize = s.Dim, IntermediateSize = s.Hidden, NumLayers = s.Layers, NumHeads = s.Heads, NumKvHeads = s.KvHeads,
            HeadDim = s.Dim / s.Heads, VocabSize = s.Vocab, MaxPositions = s.MaxPositions, BosTokenId = 1, EosTokenIds = [2],
        };
        var random = new Random((int)seed);
        float[] Values(int count, float scale, float offset = 0)
        {
            var values = new float[count];
            for (int i = 0; i < count; i++) values[i] = offset + scale * (2 * random.NextSingle() - 1);
            return values;
        }
        ILinear Linear(int outF, int inF)
        {
            var dense = new DenseLinear(Values(outF * inF, 1f / MathF.Sqrt(inF)), outF, inF);
            return bf16 ? Bf16Linear.From(dense) : dense;
        }
        int kv = config.KvDim;
        var blocks = Enumerable.Range(0, s.Layers).Select(_ => new LlamaBlockWeights(
            Values(s.Dim, 0.1f, 1f), Values(s.Dim, 0.1f, 1f),
            Linear(config.QDim, s.Dim), Linear(kv, s.Dim), Linear(kv, s.Dim), Linear(s.Dim, config.QDim),
            Linear(s.Hidden, s.Dim), Linear(s.Hidden, s.Dim), Linear(s.Dim, s.Hidden))).ToList();
        var model = new LlamaModel(config, Values(s.Vocab * s.Dim, 1f), blocks, Values(s.Dim, 0.1f, 1f), Values(s.Vocab * s.Dim, 1f / MathF.Sqrt(s.Dim)));
        if (bf16Head ?? bf16) model.Head.Layer = Bf16Linear.From((DenseLinear)model.Head.Layer);
        return model;
    }
}
