using System.Text.Json;
using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Formats.Safetensors;
using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Formats.HuggingFace;

/// <summary>
/// Writes a loaded model (LLaMA family, including one from a llama2.c checkpoint, or OPT) as a Hugging Face
/// folder: config.json, model.safetensors (one file, fp32 by default so the round trip is exact) and the
/// tokenizer files (see <see cref="TokenizerFiles"/>). The folder is created atomically (<see cref="AtomicFolder"/>):
/// it must not exist or be empty.
/// </summary>
public static class HfModelExporter
{
    /// <param name="dtype">F32, F16 or BF16: how every tensor is stored.</param>
    public static void Export(string folder, CausalLanguageModel model, string? tokenizerPath = null, TensorDType dtype = TensorDType.F32)
    {
        var tensors = HfModelTensors.Of(model);
        var linears = tensors.Linears.SelectMany(l => DenseTensors(l.Name, l.Layer, dtype));
        WriteFolder(folder, model, tensors, linears, dtype, tokenizerPath, configure: null);
    }

    /// <summary>
    /// The folder every Hugging Face writer produces: <paramref name="linearTensors"/> (the linear layers, in
    /// whatever form the caller stores them) with the plain tensors in <paramref name="dtype"/>, config.json
    /// (which <paramref name="configure"/> may extend, given the folder being filled) and the tokenizer.
    /// </summary>
    internal static void WriteFolder(string folder, CausalLanguageModel model, HfModelTensors tensors, IEnumerable<TensorToWrite> linearTensors,
        TensorDType dtype, string? tokenizerPath, Action<JsonObject, string>? configure)
    {
        if (tokenizerPath != null && !File.Exists(tokenizerPath) && !Directory.Exists(tokenizerPath))
            throw new QllmException($"{tokenizerPath}: the tokenizer does not exist.");
        var all = tensors.Plain.Select(t => Tensor(t, dtype)).Concat(linearTensors).ToList();
        bool attentionBias = HasBias(model, "self_attn.q_proj"), mlpBias = HasBias(model, "mlp.gate_proj");
        var config = HfConfigWriter.Build(model.Config, tensors.TiedHead, TorchDtype(dtype), attentionBias, mlpBias);
        AtomicFolder.Write(folder, temp =>
        {
            SafetensorsWriter.Write(Path.Combine(temp, SafetensorsCheckpoint.SingleFileName), all, new Dictionary<string, string> { ["format"] = "pt" });
            configure?.Invoke(config, temp);
            WriteJson(Path.Combine(temp, "config.json"), config);
            if (tokenizerPath != null) TokenizerFiles.CopyInto(tokenizerPath, temp);
        });
    }

    /// <summary>A layer as "{name}.weight" [out, in] and, when it has one, "{name}.bias".</summary>
    internal static IEnumerable<TensorToWrite> DenseTensors(string name, ILinear layer, TensorDType dtype)
    {
        var (weight, bias) = HfModelTensors.WeightsOf(name, layer);
        yield return Tensor(new(name + ".weight", [layer.OutFeatures, layer.InFeatures], weight), dtype);
        if (bias != null) yield return Tensor(new(name + ".bias", [layer.OutFeatures], bias), dtype);
    }

    internal static void WriteJson(string path, JsonNode json) =>
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    internal static TensorToWrite Tensor(NamedTensor t, TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => SafetensorsWriter.Float32(t.Name, t.Shape, t.Values),
        TensorDType.F16 => SafetensorsWriter.Float16(t.Name, t.Shape, t.Values),
        TensorDType.BF16 => SafetensorsWriter.BFloat16(t.Name, t.Shape, t.Values),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "models are written as F32, F16 or BF16."),
    };

    private static string TorchDtype(TensorDType dtype) => dtype switch
    {
        TensorDType.F16 => "float16",
        TensorDType.BF16 => "bfloat16",
        _ => "float32",
    };

    /// <summary>
    /// Whether the first block's layer of this name has a bias: LLaMA's attention_bias (q/k/v/o) and mlp_bias
    /// tell transformers to expect them. Qwen2's q/k/v biases are implied by its model type instead.
    /// </summary>
    private static bool HasBias(CausalLanguageModel model, string suffix)
    {
        var slot = model.BlockLinears().FirstOrDefault(s => s.Name.EndsWith(suffix, StringComparison.Ordinal));
        return slot != null && HfModelTensors.BiasOf(slot.Name, slot.Layer) != null;
    }
}
