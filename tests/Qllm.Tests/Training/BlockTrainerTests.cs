using Qllm.Models;
using Qllm.Models.KvCache;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Quantization.ZeroQuant;
using Qllm.Tests.Support;
using Qllm.Training;
using Xunit;

namespace Qllm.Tests.Training;

/// <summary>
/// Whole blocks: the training forward is the model's block forward (the oracle, to 1e-5), and the gradient of every
/// parameter and of the input matches finite differences, for LLaMA (RMSNorm, RoPE, GQA, SwiGLU) and pre-LN OPT
/// (LayerNorm with bias, ReLU MLP, biases everywhere).
/// </summary>
public class BlockTrainerTests
{
    private const int Batch = 2, SeqLen = 5;

    public static TheoryData<string> Families() => new() { "llama", "opt" };

    private static CausalLanguageModel Model(string family) => family == "llama" ? TinyModels.Llama(layers: 1) : TinyModels.Opt(layers: 1);

    private static float[] BlockForward(CausalLanguageModel model, float[] input)
    {
        var c = model.Config;
        var hidden = (float[])input.Clone();
        var cache = new Fp32KvCache(c.NumLayers, Batch, SeqLen, c.NumKvHeads, c.HeadDim);
        model.Blocks[0].Forward(hidden, new ForwardContext(Batch, SeqLen, 0, cache, new ForwardWorkspace()));
        return hidden;
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"[{i}]: block {expected[i]}, trainer {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void TrainingForwardIsTheBlockForward(string family)
    {
        var model = Model(family);
        var input = GradientCheck.Random(Batch * SeqLen * model.Config.HiddenSize, 71, 2f);
        var trainer = BlockTrainer.For(model.Blocks[0], _ => default);
        var output = new float[input.Length];
        trainer.Forward(input, Batch, SeqLen, output);
        AssertClose(BlockForward(model, input), output, 1e-5);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void InstalledQuantizedLayersGiveTheTrainingForward(string family)
    {
        var model = Model(family);
        var input = GradientCheck.Random(Batch * SeqLen * model.Config.HiddenSize, 72, 2f);
        var scheme = new ZeroQuantScheme(4, Mixed: true);
        var trainer = BlockTrainer.For(model.Blocks[0], scheme.QuantizersFor);
        var output = new float[input.Length];
        trainer.Forward(input, Batch, SeqLen, output);
        var fullPrecision = BlockForward(model, input);
        trainer.Install();
        Assert.All(model.Blocks[0].Linears, s => Assert.Contains("fake-quant", s.Layer.Kind));
        var quantized = BlockForward(model, input);
        AssertClose(quantized, output, 1e-5);
        Assert.NotEqual(fullPrecision, quantized);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void EveryGradientMatchesFiniteDifferences(string family)
    {
        var model = Model(family);
        int n = Batch * SeqLen * model.Config.HiddenSize;
        float[] input = GradientCheck.Random(n, 73, 2f), r = GradientCheck.Random(n, 74), output = new float[n], inputGradient = new float[n];
        var trainer = BlockTrainer.For(model.Blocks[0], _ => default);
        trainer.Forward(input, Batch, SeqLen, output);
        trainer.Backward(r, inputGradient);

        double Loss()
        {
            trainer.ParametersChanged();
            trainer.Forward(input, Batch, SeqLen, output);
            return GradientCheck.Dot(output, r);
        }
        // OPT's ReLU has a kink: a smaller step keeps fc1's pre-activations from crossing it within ±h.
        float h = family == "opt" ? 2e-3f : 1e-2f;
        GradientCheck.Check("input", input, inputGradient, Loss, stride: 3, h: h);
        Assert.Equal(family == "llama" ? 9 : 16, trainer.Parameters.Count);
        foreach (var parameter in trainer.Parameters)
            GradientCheck.Check(parameter.Name, parameter.Value, parameter.Gradient, Loss, stride: 5, h: h);
    }
}
