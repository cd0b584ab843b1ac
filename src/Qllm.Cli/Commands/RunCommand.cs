using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Formats.Gptq;
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

            var (loaded, loadSeconds) = ModelSession.Load(result.GetValue(model)!, result.GetValue(tokenizer), result.GetValue(threads));
            ModelSession.RequireFullPrecision(loaded);
            var textTokenizer = loaded.RequireTokenizer();
            int windowLength = Math.Min(requestedSeqLen, loaded.Model.Config.MaxPositions);

            var fullPrecision = AnalysisStep.Capture(analysisSettings, loaded);
            var outcome = zeroQuantSettings is null
                ? WeightQuantizationStep.Run(loaded, settings, result.GetValue(dataDir))
                : ZeroQuantStep.Run(loaded, settings, zeroQuantSettings, result.GetValue(dataDir));
            string label = zeroQuantSettings?.Describe() ?? settings.Describe() + (settings.Simulate ? " (simulated)" : " (packed)");
            ConsoleOutput.Info($"quantized with {zeroQuantSettings?.Describe() ?? settings.Describe()} in {outcome.Timings["quantize_total_s"]!.GetValue<double>():F1} s");
            if (saveFolder != null)
            {
                GptqCheckpointWriter.Write(saveFolder, loaded.Model, outcome.Result.Weights, QuantizeCommand.CheckpointInfo(settings), loaded.TokenizerPath);
                ConsoleOutput.Info($"saved to {Path.GetFullPath(saveFolder)}");
            }

            var analysisJson = AnalysisStep.Run(analysisSettings, loaded, fullPrecision, result.GetValue(dataDir));

            var table = PerplexityRun.NewTable();
            var timings = outcome.Timings;
            timings["load_s"] = loadSeconds;
            var results = PerplexityRun.Score(loaded.Model, textTokenizer, datasets, windowLength, windowLimit,
                result.GetValue(dataDir), label, table, timings);
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
                        ["datasets"] = new JsonArray(datasets.Select(d => (JsonNode?)d).ToArray()),
                        ["seqlen"] = windowLength,
                        ["limit"] = windowLimit,
                        ["saved_to"] = saveFolder is null ? null : Path.GetFullPath(saveFolder),
                    },
                    ["calibration"] = outcome.Calibration,
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
