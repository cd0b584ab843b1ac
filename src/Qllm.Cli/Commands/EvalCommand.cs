using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Evaluation;
using Qllm.Reporting;

namespace Qllm.Cli.Commands;

/// <summary><c>qllm eval</c>: perplexity on WikiText-2, PTB, C4 or any text file, optionally after RTN quantization.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var common = new ModelOptions();
        var ppl = CommonOptions.Perplexity();
        var seqLen = CommonOptions.SeqLen();
        var dataDir = CommonOptions.DataDirectory();
        var limit = CommonOptions.WindowLimit();
        var analysis = new AnalysisOptions(ownCalibration: true);
        var packed = new PackedW8A8Options();
        var generationTasks = new GenerationTaskOptions();

        var command = new Command("eval", "Measure perplexity as GPTQ does: the corpus tokenized once, cut into non-overlapping --seqlen windows, ppl = exp(mean NLL).")
        {
            ppl, seqLen, dataDir, limit,
        };
        common.AddTo(command);
        analysis.AddTo(command);
        packed.AddTo(command);
        generationTasks.AddTo(command);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            var total = Stopwatch.StartNew();
            string[] datasets = PerplexityRun.ParseDatasets(result.GetValue(ppl)!);
            int? windowLimit = CommonOptions.CheckWindowLimit(result.GetValue(limit));
            int requestedSeqLen = CommonOptions.CheckSeqLen(result.GetValue(seqLen));
            var transform = common.ReadTransform(result);
            var analysisSettings = analysis.Read(result);
            var packedSettings = packed.Read(result, transform);
            string[]? tasks = generationTasks.ReadTasks(result);
            // With --tasks, perplexity runs only when --ppl is given explicitly.
            if (tasks is not null && result.GetResult(ppl) is null or { Implicit: true }) datasets = [];

            var (loaded, loadSeconds) = common.Load(result);
            var textTokenizer = loaded.RequireTokenizer();
            int windowLength = Math.Min(requestedSeqLen, loaded.Model.Config.MaxPositions);
            if (windowLength < requestedSeqLen && datasets.Length > 0)
                ConsoleOutput.Info($"--seqlen {requestedSeqLen} capped at the model's {windowLength} positions");

            var quantizeClock = Stopwatch.StartNew();
            var fullPrecision = AnalysisStep.Capture(analysisSettings, loaded);
            if (packedSettings != null) PackedW8A8Options.Apply(loaded.Model, packedSettings);
            else transform.Apply(loaded.Model);
            double quantizeSeconds = quantizeClock.Elapsed.TotalSeconds;
            var analysisJson = AnalysisStep.Run(analysisSettings, loaded, fullPrecision, result.GetValue(dataDir));

            var table = PerplexityRun.NewTable();
            var timings = new JsonObject { ["load_s"] = loadSeconds, ["quantize_s"] = quantizeSeconds };
            var results = PerplexityRun.Score(loaded.Model, textTokenizer, datasets, windowLength, windowLimit, result.GetValue(dataDir),
                transform.WeightDType == "f32" ? transform.Quantization.Describe() + (packedSettings != null ? " int8" : "") : transform.WeightDType, table, timings);
            if (datasets.Length > 0) Console.Write(table);
            if (tasks is not null)
                foreach (var (task, scores) in GenerationTaskRun.Run(tasks, loaded.Model, textTokenizer, DataDirectory.Resolve(result.GetValue(dataDir)),
                             windowLimit, result.GetValue(generationTasks.NumFewshot), result.GetValue(generationTasks.MaxGenTokens), timings).ToList())
                    results[task] = scores?.DeepClone();
            timings["total_s"] = total.Elapsed.TotalSeconds;

            if (result.GetValue(common.Output) is { } path)
                ResultsFile.Write(path, new JsonObject
                {
                    ["command"] = "eval",
                    ["environment"] = ModelSession.Environment(result.GetValue(common.Threads)),
                    ["model"] = ModelSession.Describe(loaded),
                    ["config"] = new JsonObject
                    {
                        ["datasets"] = new JsonArray(datasets.Select(d => (JsonNode?)d).ToArray()),
                        ["tasks"] = tasks is null ? null : new JsonArray(tasks.Select(t => (JsonNode?)t).ToArray()),
                        ["seqlen"] = windowLength,
                        ["requested_seqlen"] = requestedSeqLen,
                        ["limit"] = windowLimit,
                        ["data_dir"] = result.GetValue(dataDir),
                        ["quantization"] = transform.ToJson(),
                        ["packed"] = packedSettings != null,
                    },
                    ["timings"] = timings,
                    ["analysis"] = analysisJson,
                    ["results"] = results,
                });
            return 0;
        }));
        return command;
    }
}
