using System.Numerics.Tensors;
using Qllm.Models.Layers;
using Qllm.Tensors;

namespace Qllm.Models.Opt;

/// <summary>
/// An OPT decoder block (Zhang et al. 2022), as HF's OPTDecoderLayer. Pre-LN (most sizes):
///   h ← h + out_proj(attention(n)), n = LN_attn(h);   h ← h + fc2(relu(fc1(n))), n = LN_final(h)
/// Post-LN (opt-350m, do_layer_norm_before = false): the same sub-layers, each LayerNorm applied
/// after its residual add. q/k/v/out and fc1/fc2 all carry biases; scores are scaled by head_dim^−½.
/// </summary>
public sealed class OptBlock : IDecoderBlock, INormFedBlock
{
    private readonly ModelConfig _config;

    public int Index { get; }
    public ModelConfig Config => _config;
    public LayerNormLayer SelfAttentionNorm { get; }
    public LayerNormLayer FinalNorm { get; }
    public LinearSlot QProj { get; }
    public LinearSlot KProj { get; }
    public LinearSlot VProj { get; }
    public LinearSlot OutProj { get; }
    public LinearSlot Fc1 { get; }
    public LinearSlot Fc2 { get; }
    public IReadOnlyList<LinearSlot> Linears { get; }
    public IReadOnlyList<IReadOnlyList<LinearSlot>> SequentialGroups { get; }
    public IReadOnlyList<NormFedGroup> NormFedGroups { get; }

    public OptBlock(int index, ModelConfig config, OptBlockWeights weights)
    {
        Index = index;
        _config = config;
        string prefix = $"model.decoder.layers.{index}.";
        SelfAttentionNorm = weights.SelfAttentionNorm;
        FinalNorm = weights.FinalNorm;
        QProj = new LinearSlot(prefix + "self_attn.q_proj", weights.Q);
        KProj = new LinearSlot(prefix + "self_attn.k_proj", weights.K);
        VProj = new LinearSlot(prefix + "self_attn.v_proj", weights.V);
        OutProj = new LinearSlot(prefix + "self_attn.out_proj", weights.Out);
        Fc1 = new LinearSlot(prefix + "fc1", weights.Fc1);
        Fc2 = new LinearSlot(prefix + "fc2", weights.Fc2);
        Linears = [QProj, KProj, VProj, OutProj, Fc1, Fc2];
        SequentialGroups = [[QProj, KProj, VProj], [OutProj], [Fc1], [Fc2]];
        // Post-LN: the LayerNorm's output is also the residual stream, so nothing can be folded into it.
        NormFedGroups = config.DoLayerNormBefore
            ? [new NormFedGroup(SelfAttentionNorm, [QProj, KProj, VProj]), new NormFedGroup(FinalNorm, [Fc1])]
            : [];
    }

    public void WarmSmallObjects(ForwardContext context)
    {
        CacheWarming.Touch(SelfAttentionNorm.Weight);
        CacheWarming.Touch(SelfAttentionNorm.Bias);
        CacheWarming.Touch(FinalNorm.Weight);
        CacheWarming.Touch(FinalNorm.Bias);
        context.Cache.Layer(Index).Prefetch(0, 0, context.StartPosition + context.SeqLen, CausalAttention.HeadStartBytes); // as LlamaBlock's
    }

    public void Forward(Span<float> hidden, ForwardContext context)
    {
        var c = _config;
        int rows = context.Rows, d = c.HiddenSize, n = rows * d;
        bool preNorm = c.DoLayerNormBefore;
        var w = context.Workspace;
        float[] normed = w.Get(0, n), q = w.Get(1, n), k = w.Get(2, n), v = w.Get(3, n),
            attention = w.Get(4, n), ffn = w.Get(5, rows * c.IntermediateSize);
        // Attention sub-layer.
        ReadOnlySpan<float> attentionInput = hidden;
        if (preNorm)
        {
            SelfAttentionNorm.Forward(hidden, normed, rows);
            attentionInput = normed;
        }
        QProj.Forward(attentionInput, q, rows);
        KProj.Forward(attentionInput, k, rows);
        VProj.Forward(attentionInput, v, rows);
        var cache = context.Cache.Layer(Index);
        for (int b = 0; b < context.Batch; b++)
            cache.Write(b, context.StartPosition, context.SeqLen, k.AsSpan(b * context.SeqLen * d, context.SeqLen * d), v.AsSpan(b * context.SeqLen * d, context.SeqLen * d));
        var shape = new CausalAttention.Shape(context.Batch, context.SeqLen, context.StartPosition, c.NumHeads, c.NumHeads, c.HeadDim, null);
        CausalAttention.Run(q, cache, shape, attention);
        OutProj.Forward(attention, normed, rows);
        TensorPrimitives.Add(hidden[..n], normed.AsSpan(0, n), hidden);
        if (!preNorm) SelfAttentionNorm.Forward(hidden, hidden, rows);

        // Feed-forward sub-layer.
        ReadOnlySpan<float> ffnInput = hidden;
        if (preNorm)
        {
            FinalNorm.Forward(hidden, normed, rows);
            ffnInput = normed;
        }
        Fc1.Forward(ffnInput, ffn, rows);
        Elementwise.Relu(ffn.AsSpan(0, rows * c.IntermediateSize));
        Fc2.Forward(ffn, attention, rows);
        TensorPrimitives.Add(hidden[..n], attention.AsSpan(0, n), hidden);
        if (!preNorm) FinalNorm.Forward(hidden, hidden, rows);
    }
}

public sealed record OptBlockWeights(
    LayerNormLayer SelfAttentionNorm, LayerNormLayer FinalNorm,
    ILinear Q, ILinear K, ILinear V, ILinear Out, ILinear Fc1, ILinear Fc2);
