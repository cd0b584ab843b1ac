using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Evaluation;
using Qllm.Reporting;
using Qllm.Tokenizers;
using Qllm.Models;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// Scores perplexity data sets with progress on stderr, for <c>eval</c> and <c>run</c>: the results and timings
/// as JSON, and one Markdown table row per data set.
/// </summary>
public static class PerplexityRun
{
    public static string[] ParseDatasets(string value)
    {
        string[] datasets = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (datasets.Length == 0) throw new QllmException("--ppl: name at least one data set.");
        return datasets;
    }

    /// <param name="timings">The command's timings; each data set's tokenize/eval seconds are added under its name.</param>
    public static JsonObject Score(CausalLanguageModel model, ITextTokenizer tokenizer, IEnumerable<string> datasets,
        int windowLength, int? windowLimit, string? dataDirectory, string configLabel, MarkdownTable table, JsonObject timings)
    {
        var results = new JsonObject();
        foreach (string name in datasets)
        {
            var corpus = PerplexityDatasets.Load(name, dataDirectory);
            var tokenizeClock = System.Diagnostics.Stopwatch.StartNew();
            int[] tokens = tokenizer.Encode(corpus.Text, addBos: true);
            double tokenizeSeconds = tokenizeClock.Elapsed.TotalSeconds;
            int? maxWindows = corpus.MaxWindows;
            if (windowLimit is int cap) maxWindows = Math.Min(maxWindows ?? int.MaxValue, cap);

            var measured = ConsoleOutput.WithProgress($"{corpus.Name}", report =>
                PerplexityEvaluator.Evaluate(model, corpus.Name, tokens, windowLength, maxWindows,
                    new SyncProgress<PerplexityProgress>(p => report(p.WindowsDone / (double)p.WindowsTotal,
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
            table.AddRow(corpus.Name, configLabel, measured.Perplexity.ToString("F4"), measured.Tokens, measured.Windows,
                measured.SeqLen, measured.TokensPerSecond.ToString("F0"), measured.Seconds.ToString("F1"));
        }
        return results;
    }

    public static MarkdownTable NewTable() => new("dataset", "config", "ppl", "tokens", "windows", "seqlen", "tokens/s", "seconds");
}

/// <summary>Synchronous IProgress (System.Progress posts to the thread pool, which would reorder reports).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
