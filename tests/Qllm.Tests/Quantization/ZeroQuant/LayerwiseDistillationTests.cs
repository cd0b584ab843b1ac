using Qllm.Calibration;
using Qllm.Formats.Llama2c;
using Qllm.Models;
using Qllm.Quantization.ZeroQuant;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Quantization.ZeroQuant;

public class LayerwiseDistillationTests
{
    private static CalibrationSet Windows(int samples, int seqLen) =>
        CalibrationSet.Load(new CalibrationOptions("c4", samples, seqLen, CalibrationSampling.First),
            TokenizerLoader.Load(SharedModels.Stories260KTokenizer), 512, SharedData.Path("data"));

    /// <summary>
    /// LKD on stories260K's last block, W4/8A8: a few Adam steps must lower the block's MSE against the full-precision
    /// block on the calibration windows. With a gradient of the wrong sign (or garbage) the MSE would rise instead.
    /// </summary>
    [Fact]
    public void DistillationLowersTheLastBlocksMse()
    {
        var model = Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint);
        var set = Windows(4, 64);
        var scheme = new ZeroQuantScheme(4, Mixed: true, ActivationBits: 8);
        var lkd = new LayerwiseDistillation(scheme, new LkdOptions(LkdLayers.Parse("last"), LearningRate: 1e-3, Steps: 8, BatchWindows: 2), model.Blocks.Count);
        CalibrationPipeline.Run(model, set, null, trueSequential: false, blockCalibrator: lkd);

        var result = Assert.Single(lkd.Results);
        Assert.Equal(model.Blocks.Count - 1, result.Block);
        var d = result.Distillation;
        Assert.Equal(8, d.StepLosses.Count);
        Assert.True(d.FinalMse < 0.8 * d.InitialMse, $"MSE {d.InitialMse:G4} → {d.FinalMse:G4}");
        Assert.All(model.BlockLinears(), s => Assert.Contains("a8 per-token", s.Layer.Kind));
        Assert.All(model.Blocks[^1].Linears, s => Assert.Contains("distilled", s.Layer.Kind));
    }

    /// <summary>The block calibrator sees, for every block, the inputs and outputs of a plain forward of the unchanged model.</summary>
    [Fact]
    public void BlockCalibratorSeesTheFullPrecisionBlockInputsAndOutputs()
    {
        var model = TinyModels.Llama(layers: 2);
        var tokens = Enumerable.Range(0, 2 * 8).Select(i => (i * 5 + 1) % 32).ToArray();
        var set = new CalibrationSet(tokens, 2, 8, "test", tokens.Length, []);
        var recorder = new Recorder();
        CalibrationPipeline.Run(model, set, null, trueSequential: false, blockCalibrator: recorder);

        // Oracle: each block run by hand on the embeddings, sample by sample.
        int d = model.Config.HiddenSize;
        var hidden = new float[tokens.Length * d];
        for (int s = 0; s < 2; s++) model.Embed(set.Sample(s), 1, 8, 0, hidden.AsSpan(s * 8 * d, 8 * d));
        for (int b = 0; b < 2; b++)
        {
            Assert.Equal(hidden, recorder.Inputs[b]);
            var cache = new Qllm.Models.KvCache.Fp32KvCache(2, 2, 8, model.Config.NumKvHeads, model.Config.HeadDim);
            model.Blocks[b].Forward(hidden, new ForwardContext(2, 8, 0, cache, new ForwardWorkspace()));
            Assert.Equal(hidden, recorder.Outputs[b]);
        }
    }

    private sealed class Recorder : IBlockCalibrator
    {
        public List<float[]> Inputs { get; } = [];
        public List<float[]> Outputs { get; } = [];
        public void BeforeBlock(IDecoderBlock block, ReadOnlySpan<float> inputs, int samples, int seqLen) => Inputs.Add(inputs.ToArray());
        public void AfterBlock(IDecoderBlock block, ReadOnlySpan<float> outputs, int samples, int seqLen) => Outputs.Add(outputs.ToArray());
    }
}
