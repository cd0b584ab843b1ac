using System.Text.Json.Nodes;
using Qllm.Analysis;
using Qllm.Calibration;
using Qllm.Common;
using Qllm.Formats;
using Qllm.Reporting;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// Runs the analysis tools on a quantized model: <see cref="LayerStatisticsAnalysis"/> (--analyze-stats) and
/// <see cref="LayerwiseDistance"/> (--layerwise-distance), against the layers captured before quantization.
/// Tables go to stdout, files are written atomically, and the JSON summary goes into the results file.
/// </summary>
public static class AnalysisStep
{
    /// <summary>Call just before the model is quantized: the reference layers, or null when no analysis was asked for.</summary>
    public static FullPrecisionLayers? Capture(AnalysisOptions.Settings settings, LoadedModel loaded) =>
        settings.Any ? FullPrecisionLayers.Capture(loaded.Model) : null;

    public static JsonObject? Run(AnalysisOptions.Settings settings, LoadedModel loaded, FullPrecisionLayers? fullPrecision, string? dataDirectory)
    {
        if (!settings.Any || fullPrecision is null) return null;
        var model = loaded.Model;
        var set = CalibrationSet.Load(settings.Calibration, loaded.RequireTokenizer(), model.Config.MaxPositions, dataDirectory);
        foreach (string note in set.Notes) ConsoleOutput.Info($"note: {note}");
        ConsoleOutput.Info($"analysis: {set.Samples} windows of {set.SeqLen} tokens from {set.Source}");
        var json = new JsonObject { ["source_path"] = Path.GetFullPath(set.Source), ["windows"] = set.Samples, ["seqlen"] = set.SeqLen };

        if (settings.StatsPath is { } statsPath)
        {
            var layers = ConsoleOutput.WithProgress("layer statistics", report =>
                LayerStatisticsAnalysis.Run(model, fullPrecision, set, new SyncProgress<int>(done => report(done / (double)set.Samples, $"{done}/{set.Samples} windows"))));
            Write(statsPath, "--analyze-stats", LayerStatisticsReport.ToCsv(layers).ToString());
            Console.Write($"\nLayer statistics ({layers.Count} layers, all in {Path.GetFullPath(statsPath)}); worst output SQNR first:\n\n");
            Console.Write(LayerStatisticsReport.Summary(layers));
            json["stats_csv"] = Path.GetFullPath(statsPath);
        }
        if (settings.Distance)
        {
            var layers = ConsoleOutput.WithProgress("layerwise distance", report =>
                LayerwiseDistance.Measure(model, fullPrecision, set, new SyncProgress<int>(done => report(done / (double)set.Samples, $"{done}/{set.Samples} windows"))));
            Console.Write("\nLayer-wise distance to the full-precision model (each on its own activations):\n\n");
            Console.Write(LayerDistanceReport.Table(layers));
            if (settings.DistancePath is { } distancePath)
                Write(distancePath, "--layerwise-distance", AnalysisOptions.IsJson(distancePath)
                    ? LayerDistanceReport.ToJson(layers).ToJsonString(ResultsFile.Indented) + "\n"
                    : LayerDistanceReport.ToCsv(layers).ToString());
            json["layerwise_distance"] = LayerDistanceReport.ToJson(layers);
        }
        return json;
    }

    private static void Write(string path, string option, string text)
    {
        try
        {
            AtomicFile.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new QllmException($"{option}: cannot write '{path}': {e.Message}");
        }
    }
}
