using System.Text.Json.Nodes;
using Qllm.Formats;
using Qllm.Formats.Gptq;
using Qllm.Formats.HuggingFace;
using Qllm.Formats.Llama2c;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Formats.Gptq;

/// <summary>
/// A model whose block linears were RTN-quantized, saved as a GPTQ checkpoint and loaded again, holds exactly
/// scale_fp16 · (code − zero) in every layer and computes what a model with those weights computes.
/// </summary>
public class GptqCheckpointRoundTripTests
{
    private static readonly int[] Tokens = [1, 403, 407, 261, 378, 429, 324, 267, 300, 425, 330, 301, 345, 261, 502, 290];

    public static TheoryData<int, int> Specs() => new() { { 4, 32 }, { 3, -1 } };

    [Theory]
    [MemberData(nameof(Specs))]
    public void Stories260KLoadsBackExactlyAsSaved(int bits, int group)
    {
        var spec = new QuantSpec(bits, Symmetric: false, group);
        var model = Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint);
        var quantized = GptqTestSupport.QuantizeBlocks(model, spec);
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "gptq");
        GptqCheckpointWriter.Write(folder, model, quantized, GptqTestSupport.InfoOf(spec), SharedModels.Stories260KTokenizer);

        var loaded = HfModelLoader.Load(folder);
        foreach (var slot in loaded.BlockLinears())
        {
            var dense = Assert.IsType<DenseLinear>(slot.Layer);
            Assert.Equal(GptqTestSupport.AsSaved(quantized[slot.Name]), dense.Weight);
            Assert.Equal($"gptq w{bits} {(group > 0 ? $"g{group}" : "per-channel")} (dequantized)", dense.Kind);
        }

        GptqTestSupport.ReplaceWithSaved(model, quantized);
        Assert.Equal(model.Forward(Tokens, 1, Tokens.Length), loaded.Forward(Tokens, 1, Tokens.Length));
        Assert.Single(Directory.GetFileSystemEntries(temp.Path));   // no temporary folder left beside it
    }

    [Fact]
    public void TheFactoryReceivesTheSavedCodesZerosAndScales()
    {
        var spec = new QuantSpec(4, Symmetric: true, 32);
        var model = Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint);
        var quantized = GptqTestSupport.QuantizeBlocks(model, spec);
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "gptq");
        GptqCheckpointWriter.Write(folder, model, quantized, GptqTestSupport.InfoOf(spec), null);

        var seen = new List<QuantizedWeight>();
        var options = new ModelLoadOptions { GptqLinearFactory = (q, bias) => { seen.Add(q); return ModelLoadOptions.DequantizedLinear(q, bias); } };
        var loaded = ModelLoader.Load(folder, options: options).Model;
        Assert.Equal(model.BlockLinears().Count(), seen.Count);
        foreach (var (slot, q) in loaded.BlockLinears().Zip(seen))
        {
            var original = quantized[slot.Name];
            Assert.Equal(original.Codes, q.Codes);
            Assert.Equal(original.Zeros, q.Zeros);
            Assert.Equal(original.Scales.Select(s => (float)(Half)s), q.Scales);
            Assert.Equal(spec, q.Spec);
            Assert.Null(q.GroupIndex);   // the contiguous g_idx is recognised
        }
    }

    [Fact]
    public void ActOrderGroupIndexSurvives()
    {
        var model = TinyModels.Llama();
        var spec = new QuantSpec(4, Symmetric: false, 8);
        var quantized = GptqTestSupport.QuantizeBlocks(model, spec);
        // A permuted g_idx, as act-order produces: columns are grouped in a shuffled order.
        var permuted = quantized.ToDictionary(p => p.Key, p =>
        {
            var q = p.Value;
            var index = Enumerable.Range(0, q.Columns).Select(c => (q.Columns - 1 - c) / 8).ToArray();
            return q with { GroupIndex = index };
        });
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "gptq");
        GptqCheckpointWriter.Write(folder, model, permuted, GptqTestSupport.InfoOf(spec) with { DescAct = true }, null);

        var loaded = HfModelLoader.Load(folder);
        foreach (var slot in loaded.BlockLinears())
            Assert.Equal(GptqTestSupport.AsSaved(permuted[slot.Name]), ((DenseLinear)slot.Layer).Weight);
    }

    [Fact]
    public void OptWithBiasesAndProjectionsRoundTrips()
    {
        using var temp = new TempFolder();
        string source = Path.Combine(temp.Path, "source"), folder = Path.Combine(temp.Path, "gptq");
        Directory.CreateDirectory(source);
        HfOracleLogitsTests.WriteCheckpoint(HfOracleLogitsTests.Case("opt_post_ln_project"), source);
        var model = HfModelLoader.Load(source);
        var spec = new QuantSpec(8, Symmetric: false, 16);
        var quantized = GptqTestSupport.QuantizeBlocks(model, spec);
        GptqCheckpointWriter.Write(folder, model, quantized, GptqTestSupport.InfoOf(spec), null);

        var loaded = HfModelLoader.Load(folder);
        foreach (var (slot, original) in loaded.BlockLinears().Zip(model.BlockLinears()))
            Assert.Equal(((DenseLinear)original.Layer).Bias, ((DenseLinear)slot.Layer).Bias);
        GptqTestSupport.ReplaceWithSaved(model, quantized);
        int[] tokens = [2, 5, 9, 1, 17, 30, 4];
        Assert.Equal(model.Forward(tokens, 1, tokens.Length), loaded.Forward(tokens, 1, tokens.Length));
    }

    [Fact]
    public void ConfigCarriesTheQuantizationSettings()
    {
        var model = TinyModels.Llama();
        var spec = new QuantSpec(4, Symmetric: true, 8);
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "gptq");
        var info = new GptqCheckpointInfo(4, 8, DescAct: true, Symmetric: true, TrueSequential: false, DampPercent: 0.1);
        GptqCheckpointWriter.Write(folder, model, GptqTestSupport.QuantizeBlocks(model, spec), info, null);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        var q = config["quantization_config"]!;
        Assert.Equal("gptq", q["quant_method"]!.GetValue<string>());
        Assert.Equal(4, q["bits"]!.GetValue<int>());
        Assert.Equal(8, q["group_size"]!.GetValue<int>());
        Assert.True(q["desc_act"]!.GetValue<bool>());
        Assert.True(q["sym"]!.GetValue<bool>());
        Assert.False(q["true_sequential"]!.GetValue<bool>());
        Assert.Equal(0.1, q["damp_percent"]!.GetValue<double>());
        Assert.Equal("gptq", q["checkpoint_format"]!.GetValue<string>());
        Assert.Equal("LlamaForCausalLM", config["architectures"]![0]!.GetValue<string>());

        var quantizeConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "quantize_config.json")))!;
        Assert.Equal(4, quantizeConfig["bits"]!.GetValue<int>());
        Assert.Equal("model", quantizeConfig["model_file_base_name"]!.GetValue<string>());
        Assert.Equal(["config.json", "model.safetensors", "quantize_config.json"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());

        // Older AutoGPTQ checkpoints carry the settings in quantize_config.json only.
        config.AsObject().Remove("quantization_config");
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        Assert.Equal(model.Config.NumLayers, HfModelLoader.Load(folder).Config.NumLayers);
    }
}
