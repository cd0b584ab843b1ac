using Qllm.Models.Layers;

namespace Qllm.Quantization.ZeroQuant;

/// <summary>
/// What ZeroQuant quantizes and how: weights at <see cref="WeightBits"/> per <see cref="GroupSize"/> columns (−1: per
/// output channel), or with <see cref="Mixed"/> the paper's W4/8 (§5.2): the FFN (MLP) weights at
/// <see cref="WeightBits"/> and the attention weights (q/k/v/o) at 8 bits; activations at the input of every block
/// linear layer token-wise at <see cref="ActivationBits"/>, or kept in full precision when null.
/// </summary>
public sealed record ZeroQuantScheme(int WeightBits, int GroupSize = -1, bool Mixed = false, int? ActivationBits = null)
{
    public const int MixedAttentionBits = 8;

    /// <summary>Attention projections are named self_attn.* in both LLaMA and OPT (DeepSpeed's config matches the same module name).</summary>
    public static bool IsAttention(LinearSlot slot) => slot.Name.Contains(".self_attn.", StringComparison.Ordinal);

    public int BitsFor(LinearSlot slot) => Mixed && IsAttention(slot) ? MixedAttentionBits : WeightBits;

    public SlotQuantizers QuantizersFor(LinearSlot slot) => new(
        new ZeroQuantWeightQuantizer(BitsFor(slot), GroupSize),
        ActivationBits is int bits ? new ZeroQuantTokenQuantizer(bits) : null);

    /// <summary>Checks the bits and the group by building the quantizers (they name the offending option).</summary>
    public void Validate()
    {
        _ = new ZeroQuantWeightQuantizer(WeightBits, GroupSize);
        if (ActivationBits is int bits) _ = new ZeroQuantTokenQuantizer(bits);
    }

    /// <summary>The paper's notation: W8A8, W4/8A16 (FFN / attention bits), plus the group.</summary>
    public string Describe() =>
        $"W{WeightBits}{(Mixed ? $"/{MixedAttentionBits}" : "")}A{ActivationBits ?? 16} {(GroupSize > 0 ? $"g{GroupSize}" : "per-channel")}";
}
