using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Quantization.Packed;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization.Packed;

/// <summary>Packed layers behind the linear seam of a whole model: the same logits as the dequantized dense layers.</summary>
public class PackedModelTests
{
    [Theory]
    [InlineData(4, 8)]
    [InlineData(3, -1)]
    public void ModelWithPackedLayersMatchesItsDequantizedTwin(int bits, int group)
    {
        var packed = TinyModels.Llama(layers: 2);
        var dense = TinyModels.Llama(layers: 2);
        var spec = new QuantSpec(bits, Symmetric: false, GroupSize: group);
        var denseSlots = dense.BlockLinears().ToList();
        foreach (var (slot, i) in packed.BlockLinears().Select((s, i) => (s, i)))
        {
            var layer = (DenseLinear)slot.Layer;
            var weight = WeightQuantizer.Quantize(layer.Weight, layer.OutFeatures, layer.InFeatures, spec);
            slot.Layer = new PackedLowBitLinear(weight, layer.Bias);
            denseSlots[i].Layer = new DenseLinear(weight.Dequantize(), layer.OutFeatures, layer.InFeatures, layer.Bias);
        }
        int[] tokens = [1, 5, 9, 2, 7, 3];
        foreach (int seqLen in new[] { 1, 6 }) // decode-sized and prefill-sized rows through every layer
        {
            float[] expected = dense.Forward(tokens.AsSpan(0, seqLen), 1, seqLen);
            float[] actual = packed.Forward(tokens.AsSpan(0, seqLen), 1, seqLen);
            for (int j = 0; j < expected.Length; j++) Assert.Equal(expected[j], actual[j], 1e-4f * (1 + Math.Abs(expected[j])));
        }
    }
}
