using Qllm.Calibration;
using Qllm.Formats.Llama2c;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Models.Opt;
using Qllm.Quantization;
using Qllm.Quantization.SmoothQuant;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Quantization.SmoothQuant;

/// <summary>
/// SmoothQuant is an exact rewrite (Xiao et al. 2022, Eq. 3): without quantization the smoothed model computes the
/// same logits, to float rounding, for RMSNorm (LLaMA) and LayerNorm with bias (OPT), while its weights did change.
/// </summary>
public class SmoothQuantInvarianceTests
{
    internal static CalibrationSet RandomWindows(int vocab, int samples, int seqLen, int seed)
    {
        var random = new Random(seed);
        int[] tokens = Enumerable.Range(0, samples * seqLen).Select(_ => random.Next(vocab)).ToArray();
        return new CalibrationSet(tokens, samples, seqLen, "random tokens", tokens.Length, []);
    }

    private static void AssertSmoothingKeepsLogits(CausalLanguageModel model, double alpha)
    {
        int vocab = model.Config.VocabSize, seqLen = Math.Min(48, model.Config.MaxPositions);
        int[] tokens = RandomWindows(vocab, 1, seqLen, seed: 7).Tokens;
        float[] before = model.Forward(tokens, 1, seqLen);
        var firstNorm = ((INormFedBlock)model.Blocks[0]).NormFedGroups[0].Norm;
        float[] normBefore = (float[])firstNorm.Weight.Clone();

        var maxima = ActivationMaxima.Collect(model, RandomWindows(vocab, 3, seqLen, seed: 1));
        var scales = SmoothQuantMethod.Apply(model, maxima, alpha);

        Assert.Contains(scales.SelectMany(b => b).SelectMany(s => s), s => MathF.Abs(s - 1) > 0.1f);
        Assert.NotEqual(normBefore, firstNorm.Weight);
        Assert.All(model.BlockLinears(), slot => Assert.Empty(slot.Hooks));
        ModelAssert.Close(before, model.Forward(tokens, 1, seqLen), 1e-5);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.85)]
    public void Stories260KLogitsAreUnchanged(double alpha) =>
        AssertSmoothingKeepsLogits(Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint), alpha);

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.85)]
    public void RandomOptLogitsAreUnchanged(double alpha) => AssertSmoothingKeepsLogits(TinyModels.Opt(), alpha);

    [Fact]
    public void TheSnapshotRestoresTheOriginalModel()
    {
        var model = TinyModels.Opt();
        int[] tokens = RandomWindows(model.Config.VocabSize, 1, 16, seed: 3).Tokens;
        var layers = model.BlockLinears().Select(s => s.Layer).ToArray();
        var norm = ((OptBlock)model.Blocks[1]).FinalNorm;
        float[] weightBefore = (float[])norm.Weight.Clone(), biasBefore = (float[])norm.Bias!.Clone();
        var snapshot = new SmoothingSnapshot(model);
        SmoothQuantMethod.Apply(model, ActivationMaxima.Collect(model, RandomWindows(model.Config.VocabSize, 2, 16, seed: 4)), 0.5);
        RtnMethod.Apply(model, new QuantSpec(4, false), null);
        Assert.NotEqual(weightBefore, norm.Weight);

        snapshot.Restore();
        Assert.Equal(layers, model.BlockLinears().Select(s => s.Layer));
        Assert.Equal(weightBefore, norm.Weight);
        Assert.Equal(biasBefore, norm.Bias);
    }
}
