using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Formats.Gptq;
using Qllm.Formats.HuggingFace;
using Qllm.Formats.Safetensors;
using Qllm.Quantization;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Formats.Gptq;

/// <summary>A broken GPTQ checkpoint gives one clear error naming the file (and the tensor).</summary>
public sealed class GptqCheckpointErrorTests : IDisposable
{
    private const string Layer = "model.layers.1.mlp.down_proj";
    private readonly TempFolder _temp = new();
    private readonly string _folder;

    public GptqCheckpointErrorTests()
    {
        _folder = Path.Combine(_temp.Path, "gptq");
        var model = TinyModels.Llama();
        var spec = new QuantSpec(4, Symmetric: true, 8);
        GptqCheckpointWriter.Write(_folder, model, GptqTestSupport.QuantizeBlocks(model, spec), GptqTestSupport.InfoOf(spec), null);
        File.Delete(Path.Combine(_folder, GptqConfigReader.QuantizeConfigFileName));
    }

    public void Dispose() => _temp.Dispose();

    private string ConfigPath => Path.Combine(_folder, "config.json");
    private string WeightsPath => Path.Combine(_folder, "model.safetensors");

    private void EditConfig(Action<JsonObject> edit)
    {
        var config = JsonNode.Parse(File.ReadAllText(ConfigPath))!.AsObject();
        edit(config);
        File.WriteAllText(ConfigPath, config.ToJsonString());
    }

    private ModelFormatException LoadFails() => Assert.Throws<ModelFormatException>(() => HfModelLoader.Load(_folder));

    public static TheoryData<string, string> ConfigCases() => new()
    {
        { "no quantization_config", "quantization_config" },
        { "awq", "'awq'" },
        { "5 bits", "5 bits" },
        { "marlin", "Marlin" },
        { "bits not a number", "'bits' must be an integer" },
    };

    [Theory]
    [MemberData(nameof(ConfigCases))]
    public void BadQuantizationConfigNamesConfigJson(string edit, string expected)
    {
        EditConfig(config =>
        {
            var q = config["quantization_config"]!.AsObject();
            switch (edit)
            {
                case "no quantization_config": config.Remove("quantization_config"); break;
                case "awq": q["quant_method"] = "awq"; break;
                case "5 bits": q["bits"] = 5; break;
                case "marlin": q["is_marlin_format"] = true; break;
                default: q["bits"] = "four"; break;
            }
        });
        var e = LoadFails();
        Assert.Equal(ConfigPath, e.FilePath);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void MissingQWeight()
    {
        RewriteWeights(tensors => tensors.Where(t => t.Name != Layer + ".qweight"));
        var e = LoadFails();
        Assert.Contains(_folder, e.Message);
        Assert.Equal(Layer + ".qweight", e.TensorName);
    }

    /// <summary>Settings that give the layers other tensor shapes than those stored: qzeros/scales for the group size, qweight for the bits.</summary>
    [Theory]
    [InlineData("group_size", 4, ".qzeros", "group size 4")]
    [InlineData("bits", 8, ".qweight", "8-bit")]
    public void ShapesThatDisagreeWithTheSettings(string field, int value, string tensorSuffix, string expected)
    {
        EditConfig(c => c["quantization_config"]![field] = value);
        var e = LoadFails();
        Assert.Equal(WeightsPath, e.FilePath);
        Assert.EndsWith(tensorSuffix, e.TensorName);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void GroupIndexOutOfRange()
    {
        RewriteWeights(tensors => tensors.Select(t => t.Name == Layer + ".g_idx"
            ? SafetensorsWriter.Int32(t.Name, t.Shape, Enumerable.Repeat(7, (int)t.Shape[0]).ToArray())
            : t));
        var e = LoadFails();
        Assert.Equal(WeightsPath, e.FilePath);
        Assert.Equal(Layer + ".g_idx", e.TensorName);
    }

    /// <summary>Rewrites model.safetensors with the tensors <paramref name="edit"/> returns.</summary>
    private void RewriteWeights(Func<IEnumerable<TensorToWrite>, IEnumerable<TensorToWrite>> edit)
    {
        List<TensorToWrite> tensors;
        using (var file = SafetensorsFile.Open(WeightsPath))
            tensors = file.Names.Select(n => file.Info(n)).Select(i => new TensorToWrite(i.Name, i.DType, i.Shape, file.GetBytes(i.Name).ToArray())).ToList();
        SafetensorsWriter.Write(WeightsPath, edit(tensors).ToList());
    }
}
