using Qllm.Models.Layers;

namespace Qllm.Models.Llama;

/// <summary>
/// LLaMA-family causal LM (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, llama2.c):
/// token embedding → blocks → RMSNorm → LM head (tied to the embedding or not).
/// </summary>
public sealed class LlamaModel : CausalLanguageModel
{
    private readonly LlamaBlock[] _blocks;

    public float[] EmbeddingTable { get; }
    public RmsNormLayer FinalNorm { get; }
    public RotaryEmbedding Rope { get; }
    public override IReadOnlyList<IDecoderBlock> Blocks => _blocks;
    public IReadOnlyList<LlamaBlock> LlamaBlocks => _blocks;

    public LlamaModel(ModelConfig config, float[] embeddingTable, IReadOnlyList<LlamaBlockWeights> blocks,
        float[] finalNorm, float[]? lmHead)
        : base(config, new LinearSlot("lm_head", new DenseLinear(lmHead ?? embeddingTable, config.VocabSize, config.HiddenSize)))
    {
        EmbeddingTable = embeddingTable;
        FinalNorm = new RmsNormLayer(finalNorm, config.NormEps);
        Rope = new RotaryEmbedding(config.HeadDim, config.MaxPositions, config.RopeTheta, config.RopeScaling);
        _blocks = blocks.Select((w, i) => new LlamaBlock(i, config, Rope, w)).ToArray();
    }

    public override void Embed(ReadOnlySpan<int> tokens, int batch, int seqLen, int startPosition, Span<float> hidden)
    {
        int d = Config.HiddenSize;
        for (int r = 0; r < tokens.Length; r++)
        {
            CheckToken(tokens[r]);
            EmbeddingTable.AsSpan(tokens[r] * d, d).CopyTo(hidden.Slice(r * d, d));
        }
    }

    public override void Finish(ReadOnlySpan<float> hidden, Span<float> output, int rows) => FinalNorm.Forward(hidden, output, rows);

    protected override float[] TokenEmbedding => EmbeddingTable;

    protected override IEnumerable<float[]> OtherTensors() =>
        _blocks.SelectMany(b => new[] { b.InputNorm.Weight, b.PostAttentionNorm.Weight }).Append(EmbeddingTable).Append(FinalNorm.Weight);
}
