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
        var smooth = new SmoothQuantOptions();
        var int8 = new LlmInt8Options();

        var command = new Command("eval", "Measure perplexity as GPTQ does: the corpus tokenized once, cut into non-overlapping --seqlen windows, ppl = exp(mean NLL).")
        {
            ppl, seqLen, dataDir, limit,
        };
        common.AddTo(command);
        foreach (var option in smooth.All.Concat(int8.All)) command.Options.Add(option);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            var total = Stopwatch.StartNew();
            string[] datasets = PerplexityRun.ParseDatasets(result.GetValue(ppl)!);
            int? windowLimit = CommonOptions.CheckWindowLimit(result.GetValue(limit));
            int requestedSeqLen = CommonOptions.CheckSeqLen(result.GetValue(seqLen));
            var transform = common.ReadTransform(result);
            var smoothing = smooth.Read(result);
            var int8Settings = int8.Read(result, transform.Quantization.Activations != null);
            if (int8Settings.Enabled && transform.WeightDType != "f32")
                throw new QllmException("--weight-dtype bf16 cannot be combined with --llm-int8 (its weights are int8 codes).");

            var (loaded, loadSeconds) = common.Load(result);
            var textTokenizer = loaded.RequireTokenizer();
            int windowLength = Math.Min(requestedSeqLen, loaded.Model.Config.MaxPositions);
            if (windowLength < requestedSeqLen)
                ConsoleOutput.Info($"--seqlen {requestedSeqLen} capped at the model's {windowLength} positions");

            var table = PerplexityRun.NewTable();
            var timings = new JsonObject { ["load_s"] = loadSeconds };
            var calibration = new JsonObject();
            string label = transform.WeightDType == "f32" ? transform.Quantization.Describe() : transform.WeightDType;
            if (int8Settings.Enabled) label = transform.Quantization.Any ? $"{label} {int8Settings.Describe()}" : int8Settings.Describe();
            var results = SmoothQuantStage.Run(loaded, smoothing, result.GetValue(dataDir), timings, calibration, alpha =>
            {
                var quantizeClock = Stopwatch.StartNew();
                transform.Apply(loaded.Model);
                int8Settings.Apply(loaded.Model);
                timings["quantize_s"] = quantizeClock.Elapsed.TotalSeconds;
                return PerplexityRun.Score(loaded.Model, textTokenizer, datasets, windowLength, windowLimit, result.GetValue(dataDir),
                    SmoothQuantStage.Label(label, alpha), table, timings);
            });
            Console.Write(table);
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
                        ["seqlen"] = windowLength,
                        ["requested_seqlen"] = requestedSeqLen,
                        ["limit"] = windowLimit,
                        ["data_dir"] = result.GetValue(dataDir),
                        ["quantization"] = transform.ToJson(),
                        ["smoothquant"] = smoothing.ToJson(),
                        ["llm_int8"] = int8Settings.ToJson(loaded.Model),
                    },
                    ["calibration"] = calibration,
                    ["timings"] = timings,
                    ["results"] = results,
                });
            return 0;
        }));
        return command;
    }
}
