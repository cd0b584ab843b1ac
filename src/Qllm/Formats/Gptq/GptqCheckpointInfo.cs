using System.Text.Json.Nodes;
using Qllm.Quantization;

namespace Qllm.Formats.Gptq;

/// <summary>
/// What a GPTQ checkpoint says about how it was made: the <c>quantization_config</c> of config.json and
/// AutoGPTQ's quantize_config.json. Only <see cref="Bits"/>, <see cref="GroupSize"/> and
/// <see cref="Symmetric"/> change how the tensors are read; the rest is recorded for whoever loads it.
/// </summary>
/// <param name="GroupSize">Input columns per scale; −1 = one scale per output channel.</param>
/// <param name="DescAct">GPTQ's act-order (columns quantized by decreasing Hessian diagonal; g_idx not monotone).</param>
/// <param name="DampPercent">Hessian dampening, as a fraction of the mean diagonal (AutoGPTQ's 0.01 default).</param>
/// <param name="CheckpointFormat">"gptq" stores zero − 1 in qzeros; "gptq_v2" (GPTQModel) stores the zero itself.</param>
public sealed record GptqCheckpointInfo(int Bits, int GroupSize, bool DescAct = false, bool Symmetric = true,
    bool TrueSequential = true, double DampPercent = 0.01, string CheckpointFormat = GptqCheckpointInfo.GptqFormat)
{
    public const string GptqFormat = "gptq";
    public const string GptqV2Format = "gptq_v2";

    /// <summary>What a reader adds to each stored zero point.</summary>
    public int ZeroOffset => CheckpointFormat == GptqV2Format ? 0 : 1;

    public QuantSpec Spec => new(Bits, Symmetric, GroupSize);

    /// <summary>Short description for layer kinds, e.g. "gptq w4 g128".</summary>
    public string Describe() => $"gptq w{Bits} {(GroupSize > 0 ? $"g{GroupSize}" : "per-channel")}";

    /// <summary>The <c>quantization_config</c> object of config.json, as transformers' GPTQConfig writes it.</summary>
    public JsonObject ToQuantizationConfig() => new()
    {
        ["quant_method"] = "gptq",
        ["bits"] = Bits,
        ["group_size"] = GroupSize,
        ["desc_act"] = DescAct,
        ["sym"] = Symmetric,
        ["true_sequential"] = TrueSequential,
        ["damp_percent"] = DampPercent,
        ["static_groups"] = false,
        ["checkpoint_format"] = CheckpointFormat,
    };

    /// <summary>AutoGPTQ's quantize_config.json: the same fields plus the weights file's base name.</summary>
    public JsonObject ToQuantizeConfigFile()
    {
        var json = ToQuantizationConfig();
        json["model_name_or_path"] = null;
        json["model_file_base_name"] = "model";
        return json;
    }
}
