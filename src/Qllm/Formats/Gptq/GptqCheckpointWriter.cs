using Qllm.Formats.HuggingFace;
using Qllm.Formats.Safetensors;
using Qllm.Models;
using Qllm.Quantization;

namespace Qllm.Formats.Gptq;

/// <summary>
/// Saves a quantized model as an AutoGPTQ/transformers GPTQ checkpoint: a Hugging Face folder in which every
/// block linear is stored as <c>qweight</c>/<c>qzeros</c> (see <see cref="GptqPacking"/>), <c>scales</c> fp16
/// [groups, out] and <c>g_idx</c> int32 [in], with config.json's <c>quantization_config</c> and AutoGPTQ's
/// quantize_config.json.
/// </summary>
/// <remarks>
/// <para>Everything else (embeddings, norms, LM head, the quantized layers' biases) is stored fp32 rather than
/// AutoGPTQ's fp16, so the loaded model differs from the quantized one only where the format forces it: the
/// scales are rounded to fp16. <see cref="HfModelLoader"/> reproduces exactly what was saved, i.e.
/// scale_fp16 · (code − zero).</para>
/// <para>The folder is created atomically and must not exist or be empty (see <see cref="Common.AtomicFolder"/>).</para>
/// </remarks>
public static class GptqCheckpointWriter
{
    /// <param name="quantized">The codes of every block linear, by <see cref="Models.Layers.LinearSlot"/> name; biases are taken from the model's layers.</param>
    /// <param name="tokenizerPath">Tokenizer files to copy (see <see cref="TokenizerFiles"/>), or null.</param>
    public static void Write(string folder, CausalLanguageModel model, IReadOnlyDictionary<string, QuantizedWeight> quantized,
        GptqCheckpointInfo info, string? tokenizerPath)
    {
        if (!GptqPacking.SupportedBits.Contains(info.Bits))
            throw new ArgumentException($"GPTQ checkpoints hold 2, 3, 4 or 8 bits, not {info.Bits}.", nameof(info));
        if (info.CheckpointFormat != GptqCheckpointInfo.GptqFormat)
            throw new ArgumentException($"only the \"{GptqCheckpointInfo.GptqFormat}\" checkpoint format is written.", nameof(info));
        var tensors = HfModelTensors.Of(model);
        var blockNames = model.BlockLinears().Select(s => s.Name).ToHashSet();
        var unknown = quantized.Keys.Where(k => !blockNames.Contains(k)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"no block linear is called {string.Join(", ", unknown)}.", nameof(quantized));
        // GPTQ loaders (ours and transformers) expect every block linear packed.
        var missing = blockNames.Where(n => !quantized.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw new ArgumentException($"no quantized weights for {string.Join(", ", missing)}.", nameof(quantized));

        var linears = tensors.Linears.SelectMany(l => quantized.TryGetValue(l.Name, out var q)
            ? LayerTensors(l.Name, q, HfModelTensors.BiasOf(l.Name, l.Layer), info, l.Layer.OutFeatures, l.Layer.InFeatures)
            : HfModelExporter.DenseTensors(l.Name, l.Layer, TensorDType.F32));
        HfModelExporter.WriteFolder(folder, model, tensors, linears, TensorDType.F32, tokenizerPath, (config, temp) =>
        {
            config["quantization_config"] = info.ToQuantizationConfig();
            HfModelExporter.WriteJson(Path.Combine(temp, GptqConfigReader.QuantizeConfigFileName), info.ToQuantizeConfigFile());
        });
    }

    /// <summary>qweight, qzeros, scales, g_idx (and the bias) of one layer.</summary>
    public static IEnumerable<TensorToWrite> LayerTensors(string name, QuantizedWeight q, float[]? bias, GptqCheckpointInfo info,
        int outFeatures, int inFeatures)
    {
        if (q.Rows != outFeatures || q.Columns != inFeatures)
            throw new ArgumentException($"'{name}': quantized weights are {q.Rows}×{q.Columns}, the layer is {outFeatures}×{inFeatures}.");
        if (q.Spec.Bits != info.Bits || q.GroupSize != (info.GroupSize > 0 ? info.GroupSize : inFeatures))
            throw new ArgumentException($"'{name}': quantized as {q.Spec.Describe()}, but the checkpoint says {info.Describe()}.");
        int groups = q.Groups, rows = q.Rows;
        var scales = new float[groups * rows];   // [out, groups] → [groups, out]
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < groups; g++) scales[g * rows + r] = q.Scales[r * groups + g];

        yield return SafetensorsWriter.Int32(name + ".qweight", [GptqPacking.PackedLength(q.Columns, info.Bits), rows],
            GptqPacking.PackQWeight(q.Codes, rows, q.Columns, info.Bits));
        yield return SafetensorsWriter.Int32(name + ".qzeros", [groups, GptqPacking.PackedLength(rows, info.Bits)],
            GptqPacking.PackQZeros(q.Zeros, rows, groups, info.Bits));
        yield return SafetensorsWriter.Float16(name + ".scales", [groups, rows], scales);
        yield return SafetensorsWriter.Int32(name + ".g_idx", [q.Columns], q.GroupIndexOrContiguous());
        if (bias != null) yield return SafetensorsWriter.Float32(name + ".bias", [rows], bias);
    }
}
