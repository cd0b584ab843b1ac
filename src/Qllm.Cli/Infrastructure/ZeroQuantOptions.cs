using System.CommandLine;
using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Quantization;
using Qllm.Quantization.ZeroQuant;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// The options of <c>run --method zeroquant</c> (Yao et al. 2022): weights on ZeroQuant's symmetric grid at --wbits per
/// --wgroup (shared with the other methods), --zq-mixed for W4/8, --zq-abits for token-wise activations, and the
/// layer-by-layer distillation (--lkd-*) on the calibration windows of --calib/--nsamples/--calib-seqlen.
/// </summary>
public sealed class ZeroQuantOptions
{
    public Option<bool> Mixed { get; } = new("--zq-mixed") { Description = "ZeroQuant W4/8: FFN (MLP) weights at --wbits, attention weights (q/k/v/o) at 8 bits." };
    public Option<int> ABits { get; } = new("--zq-abits") { Description = "ZeroQuant token-wise symmetric activation bits at every block linear input (2-8; 16 = full precision).", DefaultValueFactory = _ => 16 };
    public Option<string> LkdLayers { get; } = new("--lkd-layers") { Description = "Layer-by-layer distillation of these blocks: none, all, last, or 0-based indices i,j.", DefaultValueFactory = _ => "none" };
    public Option<double> LkdLr { get; } = new("--lkd-lr") { Description = "LKD Adam learning rate (the seed's 5e-6).", DefaultValueFactory = _ => 5e-6 };
    public Option<int> LkdSteps { get; } = new("--lkd-steps") { Description = "LKD Adam steps per block.", DefaultValueFactory = _ => 100 };
    public Option<int> LkdBatch { get; } = new("--lkd-batch") { Description = "Calibration windows per LKD step (the seed's 4).", DefaultValueFactory = _ => 4 };
    public Option<int> LkdLogEvery { get; } = new("--lkd-log-every") { Description = "Print the LKD loss every this many steps (Markdown table; every step is in the JSON).", DefaultValueFactory = _ => 10 };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Mixed, ABits, LkdLayers, LkdLr, LkdSteps, LkdBatch, LkdLogEvery })
            command.Options.Add(option);
    }

    public sealed record Settings(ZeroQuantScheme Scheme, LkdOptions? Lkd, int LogEvery)
    {
        public string Describe() => $"zeroquant {Scheme.Describe()}" + (Lkd is null ? "" : $" + LKD({Lkd.Layers.Text}, {Lkd.Steps} steps, lr {Lkd.LearningRate:G3}, batch {Lkd.BatchWindows})");

        public JsonObject ToJson() => new()
        {
            ["scheme"] = Scheme.Describe(),
            ["wbits"] = Scheme.WeightBits,
            ["attention_wbits"] = Scheme.Mixed ? ZeroQuantScheme.MixedAttentionBits : Scheme.WeightBits,
            ["wgroup"] = Scheme.GroupSize,
            ["abits"] = Scheme.ActivationBits ?? 16,
            ["lkd"] = Lkd is null ? null : new JsonObject
            {
                ["layers"] = Lkd.Layers.Text,
                ["lr"] = Lkd.LearningRate,
                ["steps"] = Lkd.Steps,
                ["batch_windows"] = Lkd.BatchWindows,
                ["optimizer"] = "adam (β 0.9/0.999, ε 1e-8, no weight decay)",
                ["trained"] = "latent fp32 linear weights and biases, norm weights and biases (straight-through over fake-quant)",
            },
        };
    }

    /// <summary>The ZeroQuant settings when --method zeroquant (null otherwise, when no ZeroQuant option may be given).</summary>
    public Settings? Read(ParseResult result, WeightMethodOptions.Settings method, string? saveFolder)
    {
        bool given = new Option[] { Mixed, ABits, LkdLayers, LkdLr, LkdSteps, LkdBatch, LkdLogEvery }.Any(o => result.GetResult(o) is { Implicit: false });
        if (method.Method != "zeroquant")
        {
            if (given) throw new QllmException("--zq-* and --lkd-* options belong to --method zeroquant.");
            return null;
        }
        if (method.Spec.MseClip) throw new QllmException("--wclip: ZeroQuant's grid is the plain symmetric absmax one; drop --wclip.");
        if (saveFolder != null) throw new QllmException("--save: ZeroQuant keeps fake-quantized fp32 layers (with activation quantizers), which have no GPTQ checkpoint form.");
        int abits = result.GetValue(ABits);
        int? activationBits = QuantSpec.IsOff(abits) ? null : abits;
        var scheme = new ZeroQuantScheme(method.Spec.Bits, method.Spec.GroupSize, result.GetValue(Mixed), activationBits);
        scheme.Validate();
        string layers = result.GetValue(LkdLayers)!;
        LkdOptions? lkd = null;
        if (!layers.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            lkd = new LkdOptions(Quantization.ZeroQuant.LkdLayers.Parse(layers), result.GetValue(LkdLr), result.GetValue(LkdSteps), result.GetValue(LkdBatch));
            lkd.Validate();
        }
        else if (new Option[] { LkdLr, LkdSteps, LkdBatch }.Any(o => result.GetResult(o) is { Implicit: false }))
            throw new QllmException("--lkd-lr/--lkd-steps/--lkd-batch need --lkd-layers (all, last or i,j).");
        int logEvery = result.GetValue(LkdLogEvery);
        if (logEvery < 1) throw new QllmException($"--lkd-log-every must be at least 1, got {logEvery}.");
        return new Settings(scheme, lkd, logEvery);
    }
}
