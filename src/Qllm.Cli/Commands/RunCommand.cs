using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Formats.Gptq;
using Qllm.Quantization;
using Qllm.Reporting;

namespace Qllm.Cli.Commands;

/// <summary>
/// <c>qllm run</c>: quantize and evaluate in one command, as qllm-infer's main.py does: load, quantize the weights
/// (GPTQ or RTN), measure perplexity on --ppl, and optionally save the checkpoint.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var threads = CommonOptions.Threads();
        var output = CommonOptions.Output();
        var method = new WeightMethodOptions();
        var analysis = new AnalysisOptions(ownCalibration: false);
        var zeroQuant = new ZeroQuantOptions();
        var ppl = CommonOptions.Perplexity();
        var seqLen = CommonOptions.SeqLen();
        var limit = CommonOptions.WindowLimit();
        var dataDir = CommonOptions.DataDirectory();
        var activations = new ActivationOptions();
        var smooth = new SmoothQuantOptions();
        var int8 = new LlmInt8Options();
        var save = new Option<string?>("--save") { Description = "Also write the quantized checkpoint to this folder (GPTQ/AutoGPTQ layout)." };

        var command = new Command("run",
            "Quantize a model's weights (GPTQ or RTN) and measure its perplexity in one go.\n\n" +
            "Example:\n  qllm run --model ../shared/models/stories260K --method gptq --wbits 4 --nsamples 128 --calib-seqlen 512 --ppl wikitext2,c4 --seqlen 512")
        {
            model, tokenizer, threads, output, ppl, seqLen, limit, dataDir, save,
        };
        method.AddTo(command);
        analysis.AddTo(command);
        zeroQuant.AddTo(command);
        foreach (var option in activations.All.Concat(smooth.All).Concat(int8.All)) command.Options.Add(option);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            var total = Stopwatch.StartNew();
            var settings = method.Read(result);
            var analysisSettings = analysis.Read(result, settings.Calibration);
            string[] datasets = PerplexityRun.ParseDatasets(result.GetValue(ppl)!);
            int requestedSeqLen = CommonOptions.CheckSeqLen(result.GetValue(seqLen));
            int? windowLimit = CommonOptions.CheckWindowLimit(result.GetValue(limit));
            string? saveFolder = result.GetValue(save);
            var zeroQuantSettings = zeroQuant.Read(result, settings, saveFolder);
            if (saveFolder != null) QuantizeCommand.CheckSaveTarget(saveFolder, settings);
            var activationSpec = activations.Read(result);
            var smoothing = smooth.Read(result);
            var int8Settings = int8.Read(result, activationSpec != null);
            if (int8Settings.Enabled && !settings.Simulate) throw new QllmException("--llm-int8 needs --simulate (it re-quantizes fp32 weight values to int8).");
            if (smoothing.IsSweep && saveFolder != null) throw new QllmException("--save cannot be combined with --smooth-alpha-sweep (which checkpoint?).");

            var (loaded, loadSeconds) = ModelSession.Load(result.GetValue(model)!, result.GetValue(tokenizer), result.GetValue(threads));
            ModelSession.RequireFullPrecision(loaded);
            var textTokenizer = loaded.RequireTokenizer();
            int windowLength = Math.Min(requestedSeqLen, loaded.Model.Config.MaxPositions);

            var table = PerplexityRun.NewTable();
            var timings = new JsonObject { ["load_s"] = loadSeconds };
            var calibration = new JsonObject();
            WeightQuantizationStep.Outcome? outcome = null;
            JsonObject? analysisJson = null;
            string label = (zeroQuantSettings?.Describe() ?? settings.Describe() + (settings.Simulate ? " (simulated)" : " (packed)")) +
                (activationSpec is null ? "" : " A:" + activationSpec.Describe()) + (int8Settings.Enabled ? " " + int8Settings.Describe() : "");
            var results = SmoothQuantStage.Run(loaded, smoothing, result.GetValue(dataDir), timings, calibration, alpha =>
            {
                // The analysis compares with the layers as they are just before quantizing (smoothed, when --smooth is on).
                var fullPrecision = AnalysisStep.Capture(analysisSettings, loaded);
                outcome = zeroQuantSettings is null
                    ? WeightQuantizationStep.Run(loaded, settings, result.GetValue(dataDir))
                    : ZeroQuantStep.Run(loaded, settings, zeroQuantSettings, result.GetValue(dataDir));
                ConsoleOutput.Info($"quantized with {zeroQuantSettings?.Describe() ?? settings.Describe()} in {outcome.Timings["quantize_total_s"]!.GetValue<double>():F1} s");
                if (saveFolder != null)
                {
                    GptqCheckpointWriter.Write(saveFolder, loaded.Model, outcome.Result.Weights, QuantizeCommand.CheckpointInfo(settings), loaded.TokenizerPath);
                    ConsoleOutput.Info($"saved to {Path.GetFullPath(saveFolder)}");
                }
                if (activationSpec != null) RtnMethod.Apply(loaded.Model, null, activationSpec);
                int8Settings.Apply(loaded.Model);
                analysisJson = AnalysisStep.Run(analysisSettings, loaded, fullPrecision, result.GetValue(dataDir));
                foreach (var (key, value) in outcome.Timings) timings[key] = value?.DeepClone();
                return PerplexityRun.Score(loaded.Model, textTokenizer, datasets, windowLength, windowLimit,
                    result.GetValue(dataDir), SmoothQuantStage.Label(label, alpha), table, timings);
            });
            foreach (var (key, value) in outcome!.Calibration) calibration[key] = value?.DeepClone();
            Console.Write(table);
            timings["total_s"] = total.Elapsed.TotalSeconds;

            if (result.GetValue(output) is { } path)
                ResultsFile.Write(path, new JsonObject
                {
                    ["command"] = "run",
                    ["environment"] = ModelSession.Environment(result.GetValue(threads)),
                    ["model"] = ModelSession.Describe(loaded),
                    ["config"] = new JsonObject
                    {
                        ["quantization"] = settings.ToJson(),
                        ["zeroquant"] = zeroQuantSettings?.ToJson(),
                        ["activations"] = ActivationOptions.ToJson(activationSpec),
                        ["smoothquant"] = smoothing.ToJson(),
                        ["llm_int8"] = int8Settings.ToJson(loaded.Model),
                        ["datasets"] = new JsonArray(datasets.Select(d => (JsonNode?)d).ToArray()),
                        ["seqlen"] = windowLength,
                        ["limit"] = windowLimit,
                        ["saved_to"] = saveFolder is null ? null : Path.GetFullPath(saveFolder),
                    },
                    ["calibration"] = calibration,
                    ["timings"] = timings,
                    ["layers"] = WeightQuantizationStep.LayersJson(outcome.Result),
                    ["analysis"] = analysisJson,
                    ["quantized_weight_bytes"] = loaded.Model.WeightBytes,
                    ["results"] = results,
                });
            return 0;
        }));
        return command;
    }
}
