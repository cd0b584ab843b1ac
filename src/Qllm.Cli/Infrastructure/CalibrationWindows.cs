using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Calibration;
using Qllm.Formats;

namespace Qllm.Cli.Infrastructure;

/// <summary>Loads a calibration set for a loaded model, prints where it came from, and describes it for the results JSON.</summary>
public static class CalibrationWindows
{
    public sealed record Loaded(CalibrationSet Set, JsonObject Json, double Seconds);

    public static Loaded Load(LoadedModel loaded, CalibrationOptions options, string? dataDirectory)
    {
        var clock = Stopwatch.StartNew();
        var set = CalibrationSet.Load(options, loaded.RequireTokenizer(), loaded.Model.Config.MaxPositions, dataDirectory);
        foreach (string note in set.Notes) ConsoleOutput.Info($"note: {note}");
        ConsoleOutput.Info($"calibration: {set.Samples} windows of {set.SeqLen} tokens from {set.Source} ({set.StreamTokens} tokens)");
        var json = new JsonObject
        {
            ["source_path"] = Path.GetFullPath(set.Source),
            ["windows"] = set.Samples,
            ["seqlen"] = set.SeqLen,
            ["stream_tokens"] = set.StreamTokens,
            ["notes"] = new JsonArray(set.Notes.Select(n => (JsonNode?)n).ToArray()),
        };
        return new Loaded(set, json, clock.Elapsed.TotalSeconds);
    }
}
