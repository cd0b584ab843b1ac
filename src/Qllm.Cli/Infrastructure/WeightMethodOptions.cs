using System.CommandLine;
using System.Text.Json.Nodes;
using Qllm.Calibration;
using Qllm.Common;
using Qllm.Quantization;
using Qllm.Quantization.Gptq;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// The options of <c>quantize</c> and <c>run</c>: which weight-only method, its weight grid (--wbits, --wgroup,
/// --wsym, --wclip), GPTQ's own settings, and the calibration set every calibration-based method shares.
/// </summary>
public sealed class WeightMethodOptions
{
    public Option<string> Method { get; } = new("--method") { Description = "Weight quantization method: gptq (calibrated, Frantar et al. 2022), rtn (round to nearest) or zeroquant (Yao et al. 2022; see --zq-*, --lkd-*).", DefaultValueFactory = _ => "gptq" };
    public Option<int> WBits { get; } = new("--wbits") { Description = "Weight bits (2-8).", DefaultValueFactory = _ => 4 };
    public Option<int> WGroup { get; } = new("--wgroup") { Description = "Group size in input columns sharing one scale and zero (-1 = one per output channel).", DefaultValueFactory = _ => -1 };
    public Option<bool> WSym { get; } = new("--wsym") { Description = "Symmetric grid (zero point fixed in the middle); default asymmetric." };
    public Option<bool> WClip { get; } = new("--wclip") { Description = "Search a clipping ratio per group minimising |w - q|^2.4 (GPTQ's mse option)." };
    public Option<double> PercDamp { get; } = new("--percdamp") { Description = "GPTQ damping: this fraction of the mean Hessian diagonal is added to the diagonal.", DefaultValueFactory = _ => 0.01 };
    public Option<int> BlockSize { get; } = new("--blocksize") { Description = "GPTQ lazy-batch block size in columns.", DefaultValueFactory = _ => 128 };
    public Option<bool> ActOrder { get; } = new("--act-order") { Description = "GPTQ: quantize columns in order of decreasing Hessian diagonal (desc_act)." };
    public Option<bool> StaticGroups { get; } = new("--static-groups") { Description = "GPTQ: fix every group's grid before the solve (keeps g_idx contiguous with --act-order); needs --wgroup." };
    public Option<bool> TrueSequential { get; } = new("--true-sequential") { Description = "GPTQ: calibrate q/k/v, then o, then gate/up, then down, each on the outputs of the already-quantized ones (one forward per block); default, as the reference's flag: all layers of a block on its unquantized outputs." };
    public Option<string> Calib { get; } = new("--calib") { Description = "Calibration text: c4 (the C4 excerpt in the data folder), wikitext2, ptb, or a .txt (one document per line) / .jsonl file.", DefaultValueFactory = _ => "c4" };
    public Option<int> NSamples { get; } = new("--nsamples") { Description = "Number of calibration windows.", DefaultValueFactory = _ => 128 };
    public Option<int> CalibSeqLen { get; } = new("--calib-seqlen") { Description = "Tokens per calibration window (capped at the model's maximum positions).", DefaultValueFactory = _ => 2048 };
    public Option<string> CalibSampling { get; } = new("--calib-sampling") { Description = "random: windows at random offsets (GPTQ, seeded by --seed); first: consecutive windows from the start, for exact cross-implementation comparisons.", DefaultValueFactory = _ => "random" };
    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the random calibration windows.", DefaultValueFactory = _ => 0 };
    public Option<bool> Simulate { get; } = new("--simulate") { Description = "Keep quantized weights as fp32 values on the grid (fake quantization) instead of packed low-bit layers." };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Method, WBits, WGroup, WSym, WClip, PercDamp, BlockSize, ActOrder, StaticGroups, TrueSequential, Calib, NSamples, CalibSeqLen, CalibSampling, Seed, Simulate })
            command.Options.Add(option);
    }

    public sealed record Settings(string Method, QuantSpec Spec, GptqOptions Gptq, bool TrueSequential, CalibrationOptions Calibration, bool Simulate)
    {
        public bool NeedsCalibration => Method == "gptq";

        public string Describe() => $"{Method} {Spec.Describe()}{(Method == "gptq" && Gptq.ActOrder ? " act-order" : "")}{(Method == "gptq" && Gptq.StaticGroups ? " static-groups" : "")}";

        public JsonObject ToJson() => new()
        {
            ["method"] = Method,
            ["wbits"] = Spec.Bits,
            ["wgroup"] = Spec.GroupSize,
            ["wsym"] = Spec.Symmetric,
            ["wclip"] = Spec.MseClip,
            ["percdamp"] = Method == "gptq" ? Gptq.PercDamp : null,
            ["blocksize"] = Method == "gptq" ? Gptq.BlockSize : null,
            ["act_order"] = Method == "gptq" && Gptq.ActOrder,
            ["static_groups"] = Method == "gptq" && Gptq.StaticGroups,
            ["true_sequential"] = Method == "gptq" && TrueSequential,
            ["calibration"] = !NeedsCalibration ? null : new JsonObject
            {
                ["source"] = Calibration.Source,
                ["nsamples"] = Calibration.Samples,
                ["seqlen"] = Calibration.SeqLen,
                ["sampling"] = Calibration.Sampling.ToString().ToLowerInvariant(),
                ["seed"] = Calibration.Seed,
            },
            ["simulate"] = Simulate,
        };
    }

    /// <summary>Reads and checks every option before anything is loaded, so a bad option fails fast.</summary>
    public Settings Read(ParseResult result)
    {
        string method = result.GetValue(Method)!.ToLowerInvariant();
        if (method is not ("gptq" or "rtn" or "zeroquant")) throw new QllmException($"--method: '{method}' is not one of gptq, rtn, zeroquant.");
        var spec = new QuantSpec(result.GetValue(WBits), result.GetValue(WSym), result.GetValue(WGroup), result.GetValue(WClip));
        spec.Validate();
        var gptq = new GptqOptions(spec, result.GetValue(PercDamp), result.GetValue(BlockSize), result.GetValue(ActOrder), result.GetValue(StaticGroups));
        if (method == "gptq") gptq.Validate();
        else if (gptq.ActOrder || gptq.StaticGroups) throw new QllmException("--act-order and --static-groups are GPTQ options; use --method gptq.");
        var calibration = new CalibrationOptions(result.GetValue(Calib)!, result.GetValue(NSamples), result.GetValue(CalibSeqLen),
            CalibrationOptions.ParseSampling(result.GetValue(CalibSampling)!), result.GetValue(Seed));
        calibration.Validate();
        return new Settings(method, spec, gptq, result.GetValue(TrueSequential), calibration, result.GetValue(Simulate));
    }
}
