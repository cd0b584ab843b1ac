using Qllm.Evaluation;
using Qllm.Formats.Llama2c;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization;

public class RtnMethodTests
{
    private static double Perplexity(QuantSpec? weights, ActivationQuantSpec? activations = null)
    {
        var model = Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint);
        RtnMethod.Apply(model, weights, activations);
        var tokenizer = Qllm.Tokenizers.TokenizerLoader.Load(SharedModels.Stories260KTokenizer);
        int[] tokens = tokenizer.Encode(PerplexityDatasets.Load("wikitext2", SharedData.Path("data")).Text[..40000]);
        return PerplexityEvaluator.Evaluate(model, "wikitext2", tokens, 512).Perplexity;
    }

    [Fact]
    public void FewerBitsGiveHigherPerplexity()
    {
        double fp32 = Perplexity(null);
        double w4 = Perplexity(new QuantSpec(4, Symmetric: false));
        double w3 = Perplexity(new QuantSpec(3, Symmetric: false));
        Assert.True(fp32 < w4 && w4 < w3, $"fp32 {fp32}, W4 {w4}, W3 {w3}");
    }

    [Fact]
    public void EveryBlockLinearIsQuantizedAndTheHeadIsLeftAlone()
    {
        var model = TinyModels.Llama();
        var head = model.Head.Layer;
        RtnMethod.Apply(model, new QuantSpec(4, false, 8), null);
        Assert.All(model.BlockLinears(), slot => Assert.StartsWith("fake-quant", slot.Layer.Kind));
        Assert.Same(head, model.Head.Layer);
        // Each row of each group holds at most 2^4 distinct values.
        foreach (var slot in model.BlockLinears())
        {
            var dense = (DenseLinear)slot.Layer;
            for (int r = 0; r < dense.OutFeatures; r++)
                Assert.True(dense.Weight.AsSpan(r * dense.InFeatures, 8).ToArray().Distinct().Count() <= 16);
        }
    }

    [Fact]
    public void ActivationQuantizationWrapsWithoutTouchingTheInput()
    {
        var model = TinyModels.Llama();
        RtnMethod.Apply(model, null, new ActivationQuantSpec(8, false, ActivationGranularity.PerToken));
        var slot = model.BlockLinears().First();
        Assert.IsType<ActivationQuantizedLinear>(slot.Layer);
        float[] input = Enumerable.Range(0, 2 * slot.Layer.InFeatures).Select(i => MathF.Sin(i)).ToArray();
        float[] copy = (float[])input.Clone();
        slot.Forward(input, new float[2 * slot.Layer.OutFeatures], 2);
        Assert.Equal(copy, input);
    }
}
