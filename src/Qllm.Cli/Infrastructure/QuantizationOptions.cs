using System.CommandLine;
using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Models;
using Qllm.Quantization;

namespace Qllm.Cli.Infrastructure;

/// <summary>The round-to-nearest options shared by eval and generate, and their translation into specs.</summary>
public sealed class QuantizationOptions
{
    public Option<int> WBits { get; } = new("--wbits") { Description = "Weight bits for every decoder-block linear layer (2-8; 16 = full precision).", DefaultValueFactory = _ => 16 };
    public Option<int> WGroup { get; } = new("--wgroup") { Description = "Weight group size in input columns (-1 = one scale per output channel).", DefaultValueFactory = _ => -1 };
    public Option<bool> WSym { get; } = new("--wsym") { Description = "Symmetric weight grid (zero point in the middle); default asymmetric min/max." };
    public Option<bool> WClip { get; } = new("--wclip") { Description = "Search a clipping ratio per group that minimises the |w - q|^2.4 error (GPTQ's mse option)." };
    public ActivationOptions Activations { get; } = new();
    public Option<bool> QuantizeHead { get; } = new("--quantize-head") { Description = "Also quantize the LM head (kept in full precision by default)." };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { WBits, WGroup, WSym, WClip }.Concat(Activations.All).Append(QuantizeHead))
            command.Options.Add(option);
    }

    public sealed record Settings(QuantSpec? Weights, ActivationQuantSpec? Activations, bool IncludeHead)
    {
        public bool Any => Weights != null || Activations != null;

        public string Describe() => !Any ? "fp32" : string.Join(" ",
            new[] { Weights is null ? null : "W:" + Weights.Describe(), Activations is null ? null : "A:" + Activations.Describe() }.OfType<string>());

        public JsonObject ToJson() => new()
        {
            ["method"] = Any ? "rtn" : "none",
            ["wbits"] = Weights?.Bits ?? 16,
            ["wgroup"] = Weights?.GroupSize ?? -1,
            ["wsym"] = Weights?.Symmetric ?? false,
            ["wclip"] = Weights?.MseClip ?? false,
            ["abits"] = Activations?.Bits ?? 16,
            ["agroup"] = Activations?.GroupSize ?? -1,
            ["asym"] = Activations?.Symmetric ?? false,
            ["agranularity"] = Activations?.Granularity.ToString() ?? "none",
            ["quantize_head"] = IncludeHead,
        };

        public void Apply(CausalLanguageModel model)
        {
            if (Any) RtnMethod.Apply(model, Weights, Activations, IncludeHead);
        }
    }

    public Settings Read(ParseResult result)
    {
        QuantSpec? weights = null;
        int wbits = result.GetValue(WBits);
        if (!QuantSpec.IsOff(wbits))
        {
            weights = new QuantSpec(wbits, result.GetValue(WSym), result.GetValue(WGroup), result.GetValue(WClip));
            weights.Validate();
        }
        var activations = Activations.Read(result);
        return new Settings(weights, activations, result.GetValue(QuantizeHead));
    }
}
