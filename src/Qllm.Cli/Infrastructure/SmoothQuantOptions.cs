using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Qllm.Calibration;
using Qllm.Common;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// SmoothQuant's options (eval and run): migration strength α, or a sweep of α values, and the calibration windows
/// its activation maxima come from. The reference calibrates on 512 Pile samples of 512 tokens; the default here is
/// 128 windows of 512 tokens from the C4 excerpt (random offsets, seed 0), which keeps a CPU run short.
/// </summary>
public sealed class SmoothQuantOptions
{
    public Option<bool> Smooth { get; } = new("--smooth") { Description = "SmoothQuant (Xiao et al. 2022): migrate activation outliers into the weights before quantizing." };
    public Option<double> Alpha { get; } = new("--smooth-alpha") { Description = "SmoothQuant migration strength α in [0, 1]: s = max|X|^α / max|W|^(1-α).", DefaultValueFactory = _ => 0.5 };
    public Option<string?> AlphaSweep { get; } = new("--smooth-alpha-sweep") { Description = "Smooth, quantize and score once per α of START:STOP:STEP (e.g. 0.35:0.90:0.05), each from the original weights; prints a table of perplexity per α." };
    public Option<string> Calib { get; } = new("--smooth-calib") { Description = "Calibration text for the activation maxima: c4, wikitext2, ptb, or a .txt/.jsonl file.", DefaultValueFactory = _ => "c4" };
    public Option<int> NSamples { get; } = new("--smooth-nsamples") { Description = "Calibration windows for the activation maxima (the reference uses 512).", DefaultValueFactory = _ => 128 };
    public Option<int> SeqLen { get; } = new("--smooth-seqlen") { Description = "Tokens per calibration window (capped at the model's maximum positions).", DefaultValueFactory = _ => 512 };

    public IEnumerable<Option> All => [Smooth, Alpha, AlphaSweep, Calib, NSamples, SeqLen];

    /// <param name="Alphas">The α values to run, in order: one without a sweep; empty when smoothing is off.</param>
    public sealed record Settings(IReadOnlyList<double> Alphas, bool IsSweep, CalibrationOptions Calibration)
    {
        public bool Enabled => Alphas.Count > 0;

        public JsonObject? ToJson() => !Enabled ? null : new JsonObject
        {
            ["alphas"] = new JsonArray(Alphas.Select(a => (JsonNode?)a).ToArray()),
            ["sweep"] = IsSweep,
            ["folded_inputs"] = "norm -> q/k/v, norm -> gate/up (LLaMA) or fc1 (OPT)",
            ["calibration"] = new JsonObject
            {
                ["source"] = Calibration.Source,
                ["nsamples"] = Calibration.Samples,
                ["seqlen"] = Calibration.SeqLen,
                ["sampling"] = Calibration.Sampling.ToString().ToLowerInvariant(),
                ["seed"] = Calibration.Seed,
            },
        };
    }

    /// <summary>Reads and checks the options before anything is loaded; SmoothQuant settings without --smooth are refused, not ignored.</summary>
    public Settings Read(ParseResult result)
    {
        string? sweep = result.GetValue(AlphaSweep);
        bool enabled = result.GetValue(Smooth) || sweep != null;
        if (!enabled)
        {
            var stray = new Option[] { Alpha, Calib, NSamples, SeqLen }.FirstOrDefault(o => result.GetResult(o) is { Implicit: false });
            if (stray != null) throw new QllmException($"{stray.Name} needs --smooth.");
            return new Settings([], false, new CalibrationOptions());
        }
        if (sweep != null && result.GetResult(Alpha) is { Implicit: false })
            throw new QllmException("--smooth-alpha and --smooth-alpha-sweep exclude each other.");
        var calibration = new CalibrationOptions(result.GetValue(Calib)!, result.GetValue(NSamples), result.GetValue(SeqLen));
        if (calibration.Samples < 1) throw new QllmException($"--smooth-nsamples must be at least 1, got {calibration.Samples}.");
        if (calibration.SeqLen < 2) throw new QllmException($"--smooth-seqlen must be at least 2, got {calibration.SeqLen}.");
        return new Settings(sweep != null ? ParseSweep(sweep) : [CheckAlpha(result.GetValue(Alpha), "--smooth-alpha")], sweep != null, calibration);
    }

    /// <summary>START:STOP:STEP, both ends included (STOP is reached within a thousandth of a step, against decimal rounding).</summary>
    public static IReadOnlyList<double> ParseSweep(string text)
    {
        string[] parts = text.Split(':');
        double[] values = parts.Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN).ToArray();
        if (values.Length != 3 || values.Any(double.IsNaN))
            throw new QllmException($"--smooth-alpha-sweep: '{text}' is not START:STOP:STEP (e.g. 0.35:0.90:0.05).");
        double start = CheckAlpha(values[0], "--smooth-alpha-sweep"), stop = CheckAlpha(values[1], "--smooth-alpha-sweep"), step = values[2];
        if (!(step > 0) || stop < start) throw new QllmException($"--smooth-alpha-sweep: '{text}' needs STEP > 0 and STOP ≥ START.");
        int count = (int)Math.Floor((stop - start) / step + 1e-3) + 1;
        return Enumerable.Range(0, count).Select(i => Math.Round(start + i * step, 10)).ToArray();
    }

    private static double CheckAlpha(double alpha, string option) =>
        alpha is >= 0 and <= 1 ? alpha : throw new QllmException($"{option}: α must lie in [0, 1], got {alpha.ToString(CultureInfo.InvariantCulture)}.");
}
