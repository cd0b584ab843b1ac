using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Calibration;
using Qllm.Formats;
using Qllm.Quantization;
using Qllm.Quantization.Gptq;
using Qllm.Reporting;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// Runs the chosen weight-only method on a loaded model, with a progress bar per block and a status line per
/// layer, and reports the per-layer losses (Markdown) and the time split (capture, Hessian, solve, forward).
/// </summary>
public static class WeightQuantizationStep
{
    public sealed record Outcome(WeightOnlyResult Result, JsonObject Timings, JsonObject Calibration, MarkdownTable LayerTable);

    public static Outcome Run(LoadedModel loaded, WeightMethodOptions.Settings settings, string? dataDirectory)
    {
        var model = loaded.Model;
        var total = Stopwatch.StartNew();
        var timings = new JsonObject();
        var calibrationJson = new JsonObject();
        WeightOnlyResult result;
        if (!settings.NeedsCalibration)
        {
            result = RtnMethod.QuantizeWeights(model, settings.Spec, settings.Simulate);
        }
        else
        {
            (var set, calibrationJson, double dataSeconds) = CalibrationWindows.Load(loaded, settings.Calibration, dataDirectory);
            timings["calibration_data_s"] = dataSeconds;

            int blocks = model.Blocks.Count;
            var method = new GptqMethod(settings.Gptq, settings.Simulate,
                layer => ConsoleOutput.Info($"  {layer.Name}: loss {layer.Loss:G5}{(layer.DampRetries > 0 ? $" (damping raised {layer.DampRetries}× to {layer.Damp:G3})" : "")}, {layer.Seconds:F2} s"));
            var split = ConsoleOutput.WithProgress("gptq", report =>
                CalibrationPipeline.Run(model, set, method, settings.TrueSequential,
                    new SyncProgress<CalibrationProgress>(p => report(p.Block / (double)blocks, $"block {p.Block + 1}/{blocks}: {p.Stage}"))));
            result = method.Result;
            timings["capture_s"] = split.Capture;
            timings["hessian_s"] = split.Observe;
            timings["solve_s"] = split.Apply;
            timings["forward_s"] = split.Forward;
            timings["forward_passes_per_block"] = split.ForwardPasses / (double)blocks;
            timings["samples_per_chunk"] = split.SamplesPerChunk;
        }
        timings["quantize_total_s"] = total.Elapsed.TotalSeconds;

        var table = new MarkdownTable("layer", "shape", settings.Method == "gptq" ? "gptq loss" : "Σ(w−q)²", "damp", "seconds");
        foreach (var layer in result.Layers)
            table.AddRow(layer.Name, $"{layer.Rows}×{layer.Columns}", layer.Loss.ToString("G5"),
                settings.Method == "gptq" ? layer.Damp.ToString("G3") + (layer.DampRetries > 0 ? $" ({layer.DampRetries} retries)" : "") : "-", layer.Seconds.ToString("F2"));
        return new Outcome(result, timings, calibrationJson, table);
    }

    public static JsonArray LayersJson(WeightOnlyResult result) => new(result.Layers.Select(l => (JsonNode?)new JsonObject
    {
        ["name"] = l.Name,
        ["rows"] = l.Rows,
        ["columns"] = l.Columns,
        ["loss"] = l.Loss,
        ["damp"] = l.Damp,
        ["damp_retries"] = l.DampRetries,
        ["seconds"] = l.Seconds,
    }).ToArray());
}
