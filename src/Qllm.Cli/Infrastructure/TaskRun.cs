using System.Globalization;
using System.Text.Json.Nodes;
using Qllm.Evaluation.Harness;
using Qllm.Evaluation.Tasks;
using Qllm.Models;
using Qllm.Reporting;
using Qllm.Tokenizers;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// Runs lm-eval style tasks with progress on stderr: results as JSON under results.&lt;task&gt;.&lt;metric&gt; (with
/// lm-eval's names, the example count and seconds; MMLU's categories and subjects as their own mmlu_* entries),
/// a summary table with one row per configuration and one column per task, and a per-metric table.
/// </summary>
public static class TaskRun
{
    public static IReadOnlyList<TaskResult> Run(CausalLanguageModel model, ITextTokenizer tokenizer, IReadOnlyList<IEvaluationTask> tasks,
        LoglikelihoodOptions scoring, string dataDirectory, int? limit, int? numFewshot, int maxGenTokens)
    {
        var scorer = new LoglikelihoodScorer(model, tokenizer, scoring);
        var results = new List<TaskResult>();
        foreach (var task in tasks)
        {
            results.Add(ConsoleOutput.WithProgress(task.Name, report =>
                task.Run(new TaskRunContext(model, tokenizer, scorer, dataDirectory, limit, numFewshot,
                    (done, total) => report(done / (double)total, $"{done}/{total}"), maxGenTokens))));
        }
        return results;
    }

    public static JsonObject ToJson(IEnumerable<TaskResult> results, JsonObject into)
    {
        foreach (var result in results)
        {
            var entry = new JsonObject();
            foreach (var (metric, value) in result.Metrics) entry[metric] = value;
            entry["examples"] = result.Examples;
            entry["seconds"] = result.Seconds;
            foreach (var (key, value) in result.Details ?? []) entry[key] = value?.DeepClone();
            into[result.Name] = entry;
            ToJson(result.Subtasks, into);
        }
        return into;
    }

    /// <summary>One row for this configuration: each task's headline metric (± stderr) in its own column.</summary>
    public static MarkdownTable Summary(string configLabel, IReadOnlyList<IEvaluationTask> tasks, IReadOnlyList<TaskResult> results)
    {
        var table = new MarkdownTable(["config", .. tasks.Select(t => $"{t.Name} ({t.HeadlineMetric})")]);
        table.AddRow([configLabel, .. tasks.Select((t, i) => Format(results[i], t.HeadlineMetric))]);
        return table;
    }

    public static MarkdownTable Details(IReadOnlyList<TaskResult> results)
    {
        var table = new MarkdownTable("task", "metric", "value", "stderr", "examples", "seconds");
        foreach (var result in results)
            foreach (var (metric, value) in result.Metrics.Where(m => !MeanMetric.IsStandardError(m.Key)))
            {
                var stderr = result.Metrics.FirstOrDefault(m => m.Key == MeanMetric.StandardErrorName(metric));
                table.AddRow(result.Name, metric, value.ToString("F4", CultureInfo.InvariantCulture),
                    stderr.Key is null ? "" : stderr.Value.ToString("F4", CultureInfo.InvariantCulture), result.Examples,
                    result.Seconds.ToString("F1", CultureInfo.InvariantCulture));
            }
        return table;
    }

    private static string Format(TaskResult result, string metric)
    {
        var value = result.Metrics.First(m => m.Key == metric).Value;
        var stderr = result.Metrics.FirstOrDefault(m => m.Key == MeanMetric.StandardErrorName(metric));
        return stderr.Key is null
            ? value.ToString("F4", CultureInfo.InvariantCulture)
            : $"{value.ToString("F4", CultureInfo.InvariantCulture)} ± {stderr.Value.ToString("F4", CultureInfo.InvariantCulture)}";
    }
}
