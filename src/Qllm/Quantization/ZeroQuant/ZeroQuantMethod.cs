using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Quantization.ZeroQuant;

/// <summary>
/// ZeroQuant without distillation (Yao et al. 2022 §4.1): every decoder-block linear layer gets its weights on the
/// symmetric group-wise grid and, when activations are quantized, a token-wise dynamic quantizer on its input.
/// Embeddings, norms and the LM head stay in full precision, as in the paper.
/// </summary>
public static class ZeroQuantMethod
{
    public static void Apply(CausalLanguageModel model, ZeroQuantScheme scheme)
    {
        foreach (var block in model.Blocks) QuantizeBlock(block, scheme);
    }

    public static void QuantizeBlock(IDecoderBlock block, ZeroQuantScheme scheme)
    {
        foreach (var slot in block.Linears)
        {
            if (slot.Layer is not DenseLinear dense)
                throw new InvalidOperationException($"ZeroQuant needs a full-precision layer at {slot.Name}, found '{slot.Layer.Kind}'.");
            slot.Layer = scheme.QuantizersFor(slot).Layer(dense.Weight, dense.OutFeatures, dense.InFeatures, dense.Bias);
        }
    }
}
