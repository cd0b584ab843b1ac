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
        var ppl = new Option<string>("--ppl")
        {
            Description = "Comma-separated data sets to score: wikitext2, ptb, ptb-valid, c4, or paths to .txt/.jsonl files.",
            DefaultValueFactory = _ => "wikitext2",
        };
        var seqLen = new Option<int>("--seqlen") { Description = "Window length in tokens (default 2048, capped at the model's maximum positions).", DefaultValueFactory = _ => 2048 };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Folder holding wikitext2/, ptb/, c4/ (default: ${DataDirectory.EnvironmentVariable}, else ../shared/data)." };
        var limit = new Option<int?>("--limit") { Description = "Score at most this many windows per data set (for a quick look; the result is then partial)." };

        var command = new Command("eval", "Measure perplexity as GPTQ does: the corpus tokenized once, cut into non-overlapping --seqlen windows, ppl = exp(mean NLL).")
        {
            ppl, seqLen, dataDir, limit,
        };
        common.AddTo(command);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            var total = Stopwatch.StartNew();
            string[] datasets = result.GetValue(ppl)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (datasets.Length == 0) throw new QllmException("--ppl: name at least one data set.");
            int? windowLimit = result.GetValue(limit);
            if (windowLimit is < 1) throw new QllmException($"--limit must be at least 1, got {windowLimit}.");
            int requestedSeqLen = result.GetValue(seqLen);
            if (requestedSeqLen < 2) throw new QllmException($"--seqlen must be at least 2, got {requestedSeqLen}.");
            var transform = common.ReadTransform(result);

            var (loaded, loadSeconds) = common.Load(result);
            var textTokenizer = loaded.RequireTokenizer();
            int windowLength = Math.Min(requestedSeqLen, loaded.Model.Config.MaxPositions);
            if (windowLength < requestedSeqLen)
                ConsoleOutput.Info($"--seqlen {requestedSeqLen} capped at the model's {windowLength} positions");

            var quantizeClock = Stopwatch.StartNew();
            transform.Apply(loaded.Model);
            double quantizeSeconds = quantizeClock.Elapsed.TotalSeconds;

            var results = new JsonObject();
            var timings = new JsonObject { ["load_s"] = loadSeconds, ["quantize_s"] = quantizeSeconds };
            var table = new MarkdownTable("dataset", "config", "ppl", "tokens", "windows", "seqlen", "tokens/s", "seconds");
            foreach (string name in datasets)
            {
                var corpus = PerplexityDatasets.Load(name, result.GetValue(dataDir));
                var tokenizeClock = Stopwatch.StartNew();
                int[] tokens = textTokenizer.Encode(corpus.Text, addBos: true);
                double tokenizeSeconds = tokenizeClock.Elapsed.TotalSeconds;
                int? maxWindows = corpus.MaxWindows;
                if (windowLimit is int cap) maxWindows = Math.Min(maxWindows ?? int.MaxValue, cap);

                var measured = ConsoleOutput.WithProgress($"{corpus.Name}", report =>
                    PerplexityEvaluator.Evaluate(loaded.Model, corpus.Name, tokens, windowLength, maxWindows,
                        new Progress(p => report(p.WindowsDone / (double)p.WindowsTotal,
                            $"{p.WindowsDone}/{p.WindowsTotal} windows, {p.WindowsDone * (double)windowLength / p.Seconds:F0} tok/s"))));

                results[corpus.Name] = new JsonObject
                {
                    ["ppl"] = measured.Perplexity,
                    ["tokens"] = measured.Tokens,
                    ["windows"] = measured.Windows,
                    ["seqlen"] = measured.SeqLen,
                    ["scored_tokens"] = (long)measured.Windows * measured.SeqLen,
                    ["complete"] = measured.Windows == Math.Min(measured.Tokens / measured.SeqLen, corpus.MaxWindows ?? int.MaxValue),
                    ["source"] = Path.GetFullPath(corpus.Source),
                    ["tokens_per_s"] = measured.TokensPerSecond,
                };
                timings[corpus.Name] = new JsonObject { ["tokenize_s"] = tokenizeSeconds, ["eval_s"] = measured.Seconds };
                table.AddRow(corpus.Name, transform.WeightDType == "f32" ? transform.Quantization.Describe() : transform.WeightDType, measured.Perplexity.ToString("F4"), measured.Tokens, measured.Windows,
                    measured.SeqLen, measured.TokensPerSecond.ToString("F0"), measured.Seconds.ToString("F1"));
            }
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
                    },
                    ["timings"] = timings,
                    ["results"] = results,
                });
            return 0;
        }));
        return command;
    }

    /// <summary>Synchronous IProgress (System.Progress posts to the thread pool, which would reorder reports).</summary>
    private sealed class Progress(Action<PerplexityProgress> report) : IProgress<PerplexityProgress>
    {
        public void Report(PerplexityProgress value) => report(value);
    }
}
