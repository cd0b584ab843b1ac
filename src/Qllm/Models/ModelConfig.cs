namespace Qllm.Models;

public enum ModelFamily { Llama, Opt }

/// <summary>RoPE frequency scaling from HF <c>rope_scaling</c>: none, "linear" or "llama3".</summary>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4, int OriginalMaxPositions = 8192);

/// <summary>
/// The architecture of a decoder-only model, independent of the file it came from
/// (HF config.json or a llama2.c header). Field names follow HF's config where one exists.
/// </summary>
public sealed record ModelConfig
{
    public required string Architecture { get; init; }
    public required ModelFamily Family { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxPositions { get; init; }
    public float NormEps { get; init; } = 1e-5f;

    // LLaMA family
    public double RopeTheta { get; init; } = 10000;
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Qwen2 puts biases on q/k/v (not on o).</summary>
    public bool QkvBias { get; init; }
    /// <summary>Mistral's sliding-window attention: a query at position i sees keys j with i − j &lt; window.</summary>
    public int? SlidingWindow { get; init; }

    // OPT
    /// <summary>OPT: LayerNorm before (true, most sizes) or after (opt-350m) each sub-layer.</summary>
    public bool DoLayerNormBefore { get; init; } = true;
    /// <summary>OPT: width of the token embedding; differs from <see cref="HiddenSize"/> when project_in/out exist.</summary>
    public int WordEmbedProjDim { get; init; }

    public bool TieWordEmbeddings { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public int QDim => NumHeads * HeadDim;
    public int KvDim => NumKvHeads * HeadDim;
    /// <summary>Width of the vectors entering the LM head (OPT's word_embed_proj_dim).</summary>
    public int HeadInputDim => Family == ModelFamily.Opt ? WordEmbedProjDim : HiddenSize;
}
