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
