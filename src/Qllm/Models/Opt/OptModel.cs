using System.Numerics.Tensors;
using Qllm.Models.Layers;

namespace Qllm.Models.Opt;

/// <summary>
/// OPT causal LM (OPTForCausalLM): token embedding (width word_embed_proj_dim) → optional project_in →
/// plus learned positions (row = position + 2, fairseq's padding offset) → blocks → final LayerNorm
/// (pre-LN models only) → optional project_out → LM head tied to the token embedding.
/// </summary>
public sealed class OptModel : CausalLanguageModel
{
    /// <summary>HF's OPTLearnedPositionalEmbedding offset: position p reads row p + 2.</summary>
    public const int PositionOffset = 2;

    private readonly OptBlock[] _blocks;

    public float[] EmbeddingTable { get; }
    public float[] PositionTable { get; }
    public LayerNormLayer? FinalNorm { get; }
    public DenseLinear? ProjectIn { get; }
    public DenseLinear? ProjectOut { get; }
    public override IReadOnlyList<IDecoderBlock> Blocks => _blocks;
    public IReadOnlyList<OptBlock> OptBlocks => _blocks;

    public OptModel(ModelConfig config, float[] embeddingTable, float[] positionTable, IReadOnlyList<OptBlockWeights> blocks,
        LayerNormLayer? finalNorm, DenseLinear? projectIn, DenseLinear? projectOut, float[]? lmHead)
        : base(config, new LinearSlot("lm_head", new DenseLinear(lmHead ?? embeddingTable, config.VocabSize, config.WordEmbedProjDim)))
    {
        EmbeddingTable = embeddingTable;
        PositionTable = positionTable;
        FinalNorm = finalNorm;
        ProjectIn = projectIn;
        ProjectOut = projectOut;
        _blocks = blocks.Select((w, i) => new OptBlock(i, config, w)).ToArray();
    }

    public override void Embed(ReadOnlySpan<int> tokens, int batch, int seqLen, int startPosition, Span<float> hidden)
    {
        int d = Config.HiddenSize, e = Config.WordEmbedProjDim, rows = tokens.Length;
        var words = ProjectIn is null ? hidden : new float[rows * e]; // only OPT-350m projects: not worth pooling
        for (int r = 0; r < rows; r++)
        {
            CheckToken(tokens[r]);
            EmbeddingTable.AsSpan(tokens[r] * e, e).CopyTo(words.Slice(r * e, e));
        }
        ProjectIn?.Forward(words, hidden, rows);
        for (int r = 0; r < rows; r++)
        {
            int position = startPosition + r % seqLen + PositionOffset;
            var row = hidden.Slice(r * d, d);
            TensorPrimitives.Add(row, PositionTable.AsSpan(position * d, d), row);
        }
    }

    public override void Finish(ReadOnlySpan<float> hidden, Span<float> output, int rows)
    {
        int n = rows * Config.HiddenSize;
        if (ProjectOut is null)
        {
            // The common case (every OPT but 350m): straight into the output, no intermediate buffer.
            if (FinalNorm is null) hidden[..n].CopyTo(output);
            else FinalNorm.Forward(hidden, output, rows);
            return;
        }
        float[] normed = System.Buffers.ArrayPool<float>.Shared.Rent(n);
        try
        {
            if (FinalNorm is null) hidden[..n].CopyTo(normed);
            else FinalNorm.Forward(hidden, normed, rows);
            ProjectOut.Forward(normed.AsSpan(0, n), output, rows);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(normed);
        }
    }

    protected override float[] TokenEmbedding => EmbeddingTable;

    protected override IEnumerable<ILinear> OtherLinears() => new ILinear?[] { ProjectIn, ProjectOut }.OfType<ILinear>();

    protected override IEnumerable<float[]> OtherTensors()
    {
        yield return EmbeddingTable;
        yield return PositionTable;
        foreach (var b in _blocks)
        {
            yield return b.SelfAttentionNorm.Weight; yield return b.SelfAttentionNorm.Bias!;
            yield return b.FinalNorm.Weight; yield return b.FinalNorm.Bias!;
        }
        if (FinalNorm != null) { yield return FinalNorm.Weight; yield return FinalNorm.Bias!; }
    }
}
