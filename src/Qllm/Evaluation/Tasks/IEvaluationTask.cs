using System.Text.Json.Nodes;
using Qllm.Evaluation.Harness;
using Qllm.Models;
using Qllm.Reporting;
using Qllm.Tokenizers;

namespace Qllm.Evaluation.Tasks;

/// <summary>
/// A task of <c>qllm eval --tasks</c>, named as in lm-evaluation-harness. Loglikelihood tasks use
/// <see cref="TaskRunContext.Scorer"/>; generation tasks (gsm8k, needle) use the model and tokenizer directly.
/// Register a new one with one line in <see cref="TaskRegistry"/>.
/// </summary>
public interface IEvaluationTask
{
    string Name { get; }

    /// <summary>The metric the summary table shows for this task (acc_norm where lm-eval reports it, else acc, exact_match...).</summary>
    string HeadlineMetric { get; }

    TaskResult Run(TaskRunContext context);
}

/// <param name="DataDirectory">The resolved data folder (../shared/data): a task reads its files under it.</param>
/// <param name="Limit">lm-eval's --limit: only the first N documents.</param>
/// <param name="NumFewshot">--num-fewshot, when given; each task has its own default (0, MMLU 5).</param>
/// <param name="Progress">Reports documents done of the total.</param>
/// <param name="MaxGenTokens">Generation tasks: most new tokens per answer (lm-eval's max_gen_toks).</param>
public sealed record TaskRunContext(
    CausalLanguageModel Model,
    ITextTokenizer Tokenizer,
    LoglikelihoodScorer Scorer,
    string DataDirectory,
    int? Limit = null,
    int? NumFewshot = null,
    Action<int, int>? Progress = null,
    int MaxGenTokens = 256)
{
    /// <summary>The first <see cref="Limit"/> documents.</summary>
    public IReadOnlyList<T> Take<T>(IReadOnlyList<T> documents) =>
        Limit is int limit && limit < documents.Count ? documents.Take(limit).ToArray() : documents;
}

/// <summary>
/// A task's outcome: metrics by lm-eval's names (acc, acc_stderr, acc_norm, ..., perplexity), how many documents
/// were scored, the seconds taken, and any sub-results lm-eval reports beside it (MMLU's categories and subjects).
/// </summary>
public sealed record TaskResult(string Name, IReadOnlyList<KeyValuePair<string, double>> Metrics, int Examples, double Seconds)
{
    public IReadOnlyList<TaskResult> Subtasks { get; init; } = [];

    /// <summary>A task's own table printed after the summary (gsm8k's filters, needle's pass keys), if it has one.</summary>
    public MarkdownTable? Table { get; init; }

    /// <summary>Further entries for results.&lt;task&gt; in the JSON (settings, per-sample logs), if any.</summary>
    public JsonObject? Details { get; init; }

    public double this[string metric] => Metrics.First(m => m.Key == metric).Value;
}
