using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Calibration;
using Qllm.Formats;
using Qllm.Quantization;
using Qllm.Quantization.ZeroQuant;
using Qllm.Reporting;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// Runs ZeroQuant on a loaded model: the plain quantization, or with --lkd-layers the layer-by-layer distillation
/// through the calibration pipeline (the full-precision model as teacher). Prints the LKD loss every --lkd-log-every
/// steps and the MSE of each distilled block over all windows before and after, as Markdown tables.
/// </summary>
public static class ZeroQuantStep
{
    public static WeightQuantizationStep.Outcome Run(LoadedModel loaded, WeightMethodOptions.Settings method, ZeroQuantOptions.Settings settings, string? dataDirectory)
    {
        var model = loaded.Model;
        var total = Stopwatch.StartNew();
        var timings = new JsonObject();
        JsonObject calibrationJson = new();
        var table = new MarkdownTable("block", "step", "batch MSE");
        if (settings.Lkd is not { } lkdOptions)
        {
            ZeroQuantMethod.Apply(model, settings.Scheme);
        }
        else
        {
            (var set, calibrationJson, double dataSeconds) = CalibrationWindows.Load(loaded, method.Calibration, dataDirectory);
            timings["calibration_data_s"] = dataSeconds;
            int blocks = model.Blocks.Count, steps = lkdOptions.Steps;
            var lkd = new LayerwiseDistillation(settings.Scheme, lkdOptions, blocks, (block, step, loss) =>
            {
                if (step % settings.LogEvery == 0 || step == steps) table.AddRow(block, step, loss.ToString("G6"));
            });
            var split = ConsoleOutput.WithProgress("lkd", report =>
                CalibrationPipeline.Run(model, set, null, trueSequential: false,
                    new SyncProgress<CalibrationProgress>(p => report(p.Block / (double)blocks, $"block {p.Block + 1}/{blocks}: {p.Stage}")), blockCalibrator: lkd));
            timings["capture_s"] = split.Capture;
            timings["forward_s"] = split.Forward;
            timings["lkd_s"] = lkd.Results.Sum(r => r.Distillation.Seconds);
            var summary = new MarkdownTable("block", "MSE before LKD", "MSE after LKD", "steps", "seconds");
            foreach (var r in lkd.Results)
                summary.AddRow(r.Block, r.Distillation.InitialMse.ToString("G6"), r.Distillation.FinalMse.ToString("G6"), r.Distillation.StepLosses.Count, r.Distillation.Seconds.ToString("F2"));
            Console.Write(table);
            Console.WriteLine();
            Console.Write(summary);
            Console.WriteLine();
            calibrationJson["lkd"] = new JsonArray(lkd.Results.Select(r => (JsonNode?)new JsonObject
            {
                ["block"] = r.Block,
                ["mse_before"] = r.Distillation.InitialMse,
                ["mse_after"] = r.Distillation.FinalMse,
                ["seconds"] = r.Distillation.Seconds,
                ["step_losses"] = new JsonArray(r.Distillation.StepLosses.Select(l => (JsonNode?)l).ToArray()),
            }).ToArray());
        }
        timings["quantize_total_s"] = total.Elapsed.TotalSeconds;
        return new WeightQuantizationStep.Outcome(new WeightOnlyResult(), timings, calibrationJson, table);
    }
}
