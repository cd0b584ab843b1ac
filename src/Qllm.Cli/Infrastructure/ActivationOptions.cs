using System.CommandLine;
using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Quantization;

namespace Qllm.Cli.Infrastructure;

/// <summary>Dynamic activation quantization of the inputs of every decoder-block linear layer (eval and run).</summary>
public sealed class ActivationOptions
{
    public Option<int> ABits { get; } = new("--abits") { Description = "Activation bits for the inputs of every decoder-block linear layer (2-8; 16 = off).", DefaultValueFactory = _ => 16 };
    public Option<int> AGroup { get; } = new("--agroup") { Description = "Activation group size in columns (-1 = whole token or tensor).", DefaultValueFactory = _ => -1 };
    public Option<bool> ASym { get; } = new("--act-sym") { Description = "Symmetric activation grid (zero point in the middle); default asymmetric min/max." };
    public Option<string> AGranularity { get; } = new("--agranularity")
    {
        Description = "Activation scale granularity: per-token (one grid per token) or per-tensor.",
        DefaultValueFactory = _ => "per-token",
    };

    public IEnumerable<Option> All => [ABits, AGroup, ASym, AGranularity];

    /// <summary>The activation grid, or null when --abits leaves activations in full precision.</summary>
    public ActivationQuantSpec? Read(ParseResult result)
    {
        // Checked even when activations stay in full precision, so a typo is never silently ignored.
        var granularity = result.GetValue(AGranularity) switch
        {
            "per-token" => ActivationGranularity.PerToken,
            "per-tensor" => ActivationGranularity.PerTensor,
            var other => throw new QllmException($"--agranularity: '{other}' is not one of per-token, per-tensor."),
        };
        int abits = result.GetValue(ABits);
        if (QuantSpec.IsOff(abits)) return null;
        var activations = new ActivationQuantSpec(abits, result.GetValue(ASym), granularity, result.GetValue(AGroup));
        activations.Validate();
        return activations;
    }

    public static JsonObject? ToJson(ActivationQuantSpec? spec) => spec is null ? null : new JsonObject
    {
        ["abits"] = spec.Bits,
        ["agroup"] = spec.GroupSize,
        ["act_sym"] = spec.Symmetric,
        ["agranularity"] = spec.Granularity.ToString(),
    };
}
