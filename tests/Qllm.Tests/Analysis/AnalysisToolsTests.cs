using Qllm.Analysis;
using Qllm.Calibration;
using Qllm.Evaluation;
using Qllm.Formats.Llama2c;
using Qllm.Models.Llama;
using Qllm.Quantization;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Analysis;

/// <summary>The analysis tools on stories260K, checked against invariants that hold whatever the numbers are.</summary>
public class AnalysisToolsTests
{
    private static readonly Lazy<CalibrationSet> TwoWindows = new(LoadWindows);

    private static CalibrationSet Windows() => TwoWindows.Value;

    /// <summary>Two windows of 48 WikiText-2 tokens.</summary>
    private static CalibrationSet LoadWindows()
    {
        var tokenizer = TokenizerLoader.Load(SharedModels.Stories260KTokenizer);
        int[] stream = tokenizer.Encode(PerplexityDatasets.Load("wikitext2", SharedData.Path("data")).Text[..4000], addBos: true);
        return new CalibrationSet(stream[..96], 2, 48, "wikitext2 excerpt", stream.Length, []);
    }

    private static (LlamaModel Model, FullPrecisionLayers FullPrecision) Quantized(QuantSpec? weights, ActivationQuantSpec? activations = null)
    {
        var model = Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint);
        var fullPrecision = FullPrecisionLayers.Capture(model);
        RtnMethod.Apply(model, weights, activations);
        return (model, fullPrecision);
    }

    [Fact]
    public void AnUnquantizedModelIsAtZeroDistanceEverywhere()
    {
        var (model, fullPrecision) = Quantized(null);
        var layers = LayerwiseDistance.Measure(model, fullPrecision, Windows());
        Assert.Equal(model.BlockLinears().Count() + 1, layers.Count);
        Assert.Equal("lm_head", layers[^1].Name);
        Assert.All(layers, layer =>
        {
            Assert.Equal(96L * layer.InFeatures, layer.Input.Count);
            Assert.Equal(0, layer.Input.Mse);
            Assert.Equal(0, layer.Output.Mse);
            Assert.Equal(double.PositiveInfinity, layer.Output.SqnrDb);
            Assert.True(layer.Output.SignalSquares > 0);
        });
    }

    [Fact]
    public void AnUnquantizedModelHasNoQuantizationErrorAndTheHeadIsLeftOut()
    {
        var (model, fullPrecision) = Quantized(null);
        var layers = LayerStatisticsAnalysis.Run(model, fullPrecision, Windows());
        Assert.Equal(model.BlockLinears().Select(s => s.Name), layers.Select(l => l.Name));
        Assert.All(layers, layer =>
        {
            Assert.Equal(double.PositiveInfinity, layer.WeightError.SqnrDb);
            Assert.Equal(double.PositiveInfinity, layer.ActivationError.SqnrDb);
            Assert.Equal(double.PositiveInfinity, layer.OutputError.SqnrDb);
            Assert.True(double.IsFinite(layer.Activation.ExcessKurtosis) && double.IsFinite(layer.Weight.ExcessKurtosis));
        });
    }

    [Fact]
    public void TheFirstLayersSeeTheSameInputInBothModelsSoTheirDistanceIsTheirOwnError()
    {
        var (model, fullPrecision) = Quantized(new QuantSpec(4, false), new ActivationQuantSpec(8, false, ActivationGranularity.PerToken));
        var set = Windows();
        var own = LayerStatisticsAnalysis.Run(model, fullPrecision, set).ToDictionary(l => l.Name);
        var distance = LayerwiseDistance.Measure(model, fullPrecision, set).ToDictionary(l => l.Name);
        foreach (string name in new[] { "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj" })
        {
            Assert.Equal(0, distance[name].Input.Mse);
            Assert.Equal(own[name].OutputError.Mse, distance[name].Output.Mse, 1e-12);
            Assert.True(double.IsFinite(own[name].OutputError.SqnrDb));
        }
        // Past the first group the quantized model's inputs have drifted: the errors accumulate.
        Assert.True(distance["model.layers.4.mlp.down_proj"].Input.Mse > 0);
        Assert.True(distance["model.layers.4.mlp.down_proj"].Output.SqnrDb < own["model.layers.4.mlp.down_proj"].OutputError.SqnrDb);
    }

    [Fact]
    public void PackedLayersAreMeasuredByTheirDequantizedWeightsAsTheSimulatedOnes()
    {
        var set = Windows();
        double[] WeightSqnr(bool simulate)
        {
            var model = Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint);
            var fullPrecision = FullPrecisionLayers.Capture(model);
            RtnMethod.QuantizeWeights(model, new QuantSpec(4, false, 32), simulate);
            return LayerStatisticsAnalysis.Run(model, fullPrecision, set).Select(l => l.WeightError.SqnrDb).ToArray();
        }
        double[] packed = WeightSqnr(simulate: false), simulated = WeightSqnr(simulate: true);
        Assert.All(packed, db => Assert.InRange(db, 10, 40));
        Assert.Equal(simulated, packed);
    }

    [Fact]
    public void TheModelIsLeftAsItWas()
    {
        var (model, fullPrecision) = Quantized(new QuantSpec(4, false));
        var layers = model.BlockLinears().Append(model.Head).Select(s => s.Layer).ToList();
        LayerStatisticsAnalysis.Run(model, fullPrecision, Windows());
        LayerwiseDistance.Measure(model, fullPrecision, Windows());
        Assert.Equal(layers, model.BlockLinears().Append(model.Head).Select(s => s.Layer));
        Assert.All(model.BlockLinears().Append(model.Head), slot => Assert.Empty(slot.Hooks));
    }

    [Fact]
    public void TheHeadsDistanceIsTheDistanceBetweenTheTwoModelsLogits()
    {
        // An OPT (learned positions, LayerNorm with bias, tied head) with its head quantized too; the oracle is the
        // ordinary forward pass of two separate models, fp32 and quantized, on the same windows.
        var set = new CalibrationSet(Enumerable.Range(0, 32).Select(i => (i * 7 + 3) % 32).ToArray(), 2, 16, "tokens", 32, []);
        var fp32 = TinyModels.Opt();
        var quantized = TinyModels.Opt();
        var fullPrecision = FullPrecisionLayers.Capture(quantized);
        RtnMethod.Apply(quantized, new QuantSpec(3, false, 8), null, includeHead: true);

        double signal = 0, noise = 0;
        for (int s = 0; s < set.Samples; s++)
        {
            float[] reference = fp32.Forward(set.Sample(s), 1, set.SeqLen), logits = quantized.Forward(set.Sample(s), 1, set.SeqLen);
            for (int i = 0; i < reference.Length; i++)
            {
                signal += (double)reference[i] * reference[i];
                noise += ((double)reference[i] - logits[i]) * ((double)reference[i] - logits[i]);
            }
        }
        var head = LayerwiseDistance.Measure(quantized, fullPrecision, set)[^1];
        Assert.Equal("lm_head", head.Name);
        Assert.Equal(10 * Math.Log10(signal / noise), head.Output.SqnrDb, 1e-6);
        Assert.Equal(noise / (2 * 16 * 32), head.Output.Mse, 1e-9);

        var stats = LayerStatisticsAnalysis.Run(quantized, fullPrecision, set);
        Assert.Equal("lm_head", stats[^1].Name);
        Assert.Equal(quantized.BlockLinears().Count() + 1, stats.Count);
        Assert.InRange(stats[^1].WeightError.SqnrDb, 5, 30);
    }
}
