using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Qllm.Formats;
using Qllm.Quantization.SmoothQuant;
using Qllm.Reporting;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// Runs a command's quantize-and-score step once without SmoothQuant, or after smoothing: the activation maxima are
/// collected once on the full-precision model, then for each α the original weights are restored, smoothed with
/// that α and handed to the step (so smoothing always precedes the weight and activation quantization). A sweep
/// prints the table of perplexity per α.
/// </summary>
public static class SmoothQuantStage
{
    /// <param name="quantizeAndScore">Quantizes the (smoothed) model and scores it; gets α (null: no smoothing), returns the results per data set.</param>
    /// <returns>The step's results; for a sweep, one {alpha, results} entry per α.</returns>
    public static JsonNode Run(LoadedModel loaded, SmoothQuantOptions.Settings settings, string? dataDirectory, JsonObject timings,
        JsonObject calibrationReport, Func<double?, JsonObject> quantizeAndScore)
    {
        if (!settings.Enabled) return quantizeAndScore(null);
        var model = loaded.Model;
        var (set, setJson, dataSeconds) = CalibrationWindows.Load(loaded, settings.Calibration, dataDirectory);
        var clock = Stopwatch.StartNew();
        var maxima = ConsoleOutput.WithProgress("smoothquant maxima", report =>
            ActivationMaxima.Collect(model, set, new SyncProgress<int>(done => report(done / (double)set.Samples, $"{done}/{set.Samples} windows"))));
        timings["smooth_calibration_data_s"] = dataSeconds;
        timings["smooth_calibration_s"] = clock.Elapsed.TotalSeconds;
        calibrationReport["smoothquant"] = setJson;
        calibrationReport["smoothquant_activation_maxima"] = MaximaJson(model, maxima);

        var snapshot = new SmoothingSnapshot(model);
        var sweep = new JsonArray();
        JsonObject results = [];
        foreach (double alpha in settings.Alphas)
        {
            snapshot.Restore();
            SmoothQuantMethod.Apply(model, maxima, alpha);
            ConsoleOutput.Info($"smoothed with α = {alpha.ToString("0.00", CultureInfo.InvariantCulture)}");
            results = quantizeAndScore(alpha);
            sweep.Add(new JsonObject { ["alpha"] = alpha, ["results"] = results.DeepClone() });
        }
        if (!settings.IsSweep) return results;
        Console.Write(SweepTable(sweep));
        return sweep;
    }

    /// <summary>
    /// How outlying each smoothed input is: its largest channel maximum against the median channel's. LLMs past 6.7B
    /// show ratios in the tens to hundreds (Xiao et al. 2022, Fig. 4); near 1–3 there is little for smoothing to move.
    /// </summary>
    private static JsonArray MaximaJson(Qllm.Models.CausalLanguageModel model, ActivationMaxima maxima)
    {
        var groups = ActivationMaxima.NormFedGroups(model);
        var rows = new JsonArray();
        for (int b = 0; b < groups.Count; b++)
            for (int g = 0; g < groups[b].Count; g++)
            {
                float[] sorted = maxima.PerBlock[b][g].Order().ToArray();
                float median = sorted[sorted.Length / 2], max = sorted[^1];
                rows.Add(new JsonObject
                {
                    ["input_of"] = string.Join(",", groups[b][g].Linears.Select(s => s.Name)),
                    ["max"] = max,
                    ["median"] = median,
                    ["max_over_median"] = median > 0 ? max / median : null,
                });
            }
        return rows;
    }

    /// <summary>The label of a configuration smoothed with α.</summary>
    public static string Label(string configuration, double? alpha) =>
        alpha is double a ? $"{configuration} + smooth α={a.ToString("0.00", CultureInfo.InvariantCulture)}" : configuration;

    /// <summary>One row per α, one perplexity column per data set (the seed's α table).</summary>
    private static MarkdownTable SweepTable(JsonArray sweep)
    {
        var datasets = sweep[0]!["results"]!.AsObject().Select(p => p.Key).ToArray();
        var table = new MarkdownTable(datasets.Select(d => $"{d} ppl").Prepend("α").ToArray());
        foreach (var entry in sweep)
            table.AddRow(datasets.Select(d => (object?)entry!["results"]![d]!["ppl"]!.GetValue<double>().ToString("F4", CultureInfo.InvariantCulture))
                .Prepend(entry!["alpha"]!.GetValue<double>().ToString("0.00", CultureInfo.InvariantCulture)).ToArray());
        return table;
    }
}
