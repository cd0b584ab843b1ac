using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Evaluation;
using Qllm.Reporting;

namespace Qllm.Cli.Commands;

/// <summary><c>qllm eval</c>: perplexity on WikiText-2, PTB, C4 or any text file, and lm-eval style tasks (--tasks), optionally after RTN quantization.</summary>
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
        var taskOptions = new TaskOptions();
        var smooth = new SmoothQuantOptions();
        var int8 = new LlmInt8Options();

        var command = new Command("eval", "Measure perplexity as GPTQ does (the corpus tokenized once, cut into non-overlapping --seqlen windows, ppl = exp(mean NLL)), and/or score lm-evaluation-harness tasks (--tasks).")
        {
            ppl, seqLen, dataDir, limit,
        };
        common.AddTo(command);
        analysis.AddTo(command);
        packed.AddTo(command);
        taskOptions.AddTo(command);
        foreach (var option in smooth.All.Concat(int8.All)) command.Options.Add(option);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            var total = Stopwatch.StartNew();
            var tasks = taskOptions.ReadTasks(result);
            // --ppl's default (wikitext2) applies only when no --tasks are given.
            string[] datasets = tasks.Count > 0 && result.GetResult(ppl) is null or { Implicit: true } ? [] : PerplexityRun.ParseDatasets(result.GetValue(ppl)!);
            string? taskDataDirectory = tasks.Count > 0 ? DataDirectory.Resolve(result.GetValue(dataDir)) : null;
            int? windowLimit = CommonOptions.CheckWindowLimit(result.GetValue(limit));
            int requestedSeqLen = CommonOptions.CheckSeqLen(result.GetValue(seqLen));
            var transform = common.ReadTransform(result);
            var analysisSettings = analysis.Read(result);
            var packedSettings = packed.Read(result, transform);
            var smoothing = smooth.Read(result);
            var int8Settings = int8.Read(result, transform.Quantization.Activations != null);
            if (int8Settings.Enabled && transform.WeightDType != "f32")
                throw new QllmException("--weight-dtype bf16 cannot be combined with --llm-int8 (its weights are int8 codes).");

            var (loaded, loadSeconds) = common.Load(result);
            var textTokenizer = loaded.RequireTokenizer();
            int windowLength = Math.Min(requestedSeqLen, loaded.Model.Config.MaxPositions);
            if (windowLength < requestedSeqLen && datasets.Length > 0)
                ConsoleOutput.Info($"--seqlen {requestedSeqLen} capped at the model's {windowLength} positions");

            var table = PerplexityRun.NewTable();
            var timings = new JsonObject { ["load_s"] = loadSeconds };
            var calibration = new JsonObject();
            JsonObject? analysisJson = null;
            string label = transform.WeightDType == "f32" ? transform.Quantization.Describe() + (packedSettings != null ? " int8" : "") : transform.WeightDType;
            if (int8Settings.Enabled) label = transform.Quantization.Any ? $"{label} {int8Settings.Describe()}" : int8Settings.Describe();
            var taskTables = new List<MarkdownTable>();
            var results = SmoothQuantStage.Run(loaded, smoothing, result.GetValue(dataDir), timings, calibration, alpha =>
            {
                var quantizeClock = Stopwatch.StartNew();
                // The analysis compares with the layers as they are just before quantizing (smoothed, when --smooth is on).
                var fullPrecision = AnalysisStep.Capture(analysisSettings, loaded);
                if (packedSettings != null) PackedW8A8Options.Apply(loaded.Model, packedSettings);
                else transform.Apply(loaded.Model);
                int8Settings.Apply(loaded.Model);
                timings["quantize_s"] = quantizeClock.Elapsed.TotalSeconds;
                analysisJson = AnalysisStep.Run(analysisSettings, loaded, fullPrecision, result.GetValue(dataDir));
                string configLabel = SmoothQuantStage.Label(label, alpha);
                var scores = PerplexityRun.Score(loaded.Model, textTokenizer, datasets, windowLength, windowLimit, result.GetValue(dataDir),
                    configLabel, table, timings);
                if (tasks.Count > 0)
                {
                    var taskResults = TaskRun.Run(loaded.Model, textTokenizer, tasks, taskOptions.ReadScoring(result), taskDataDirectory!,
                        windowLimit, result.GetValue(taskOptions.NumFewshot), result.GetValue(taskOptions.MaxGenTokens));
                    TaskRun.ToJson(taskResults, scores);
                    timings["tasks_s"] = taskResults.Sum(r => r.Seconds);
                    taskTables.Add(TaskRun.Summary(configLabel, tasks, taskResults));
                    taskTables.Add(TaskRun.Details(taskResults));
                    taskTables.AddRange(taskResults.Select(r => r.Table).OfType<MarkdownTable>());
                }
                return scores;
            });
            if (datasets.Length > 0) Console.Write(table);
            foreach (var taskTable in taskTables)
            {
                Console.WriteLine();
                Console.Write(taskTable);
            }
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
                        ["tasks"] = new JsonArray(tasks.Select(t => (JsonNode?)t.Name).ToArray()),
                        ["num_fewshot"] = result.GetValue(taskOptions.NumFewshot),
                        ["scoring"] = System.Text.Json.JsonSerializer.SerializeToNode(taskOptions.ReadScoring(result)),
                        ["seqlen"] = windowLength,
                        ["requested_seqlen"] = requestedSeqLen,
                        ["limit"] = windowLimit,
                        ["data_dir"] = result.GetValue(dataDir),
                        ["quantization"] = transform.ToJson(),
                        ["packed"] = packedSettings != null,
                        ["smoothquant"] = smoothing.ToJson(),
                        ["llm_int8"] = int8Settings.ToJson(loaded.Model),
                    },
                    ["calibration"] = calibration,
                    ["timings"] = timings,
                    ["analysis"] = analysisJson,
                    ["results"] = results,
                });
            return 0;
        }));
        return command;
    }
}
