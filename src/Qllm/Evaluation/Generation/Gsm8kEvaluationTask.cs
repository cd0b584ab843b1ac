using System.Globalization;
using System.Text.Json.Nodes;
using Qllm.Evaluation.Tasks;
using Qllm.Reporting;

namespace Qllm.Evaluation.Generation;

/// <summary>
/// gsm8k in <c>eval --tasks</c>: <see cref="Gsm8kTask"/> with lm-eval's metric names (exact_match per filter, its
/// stderr), its filter table, and the per-document log (few-shot draw, completion, extracted answers) in the JSON.
/// </summary>
public sealed class Gsm8kEvaluationTask : IEvaluationTask
{
    public string Name => Gsm8kTask.Name;
    public string HeadlineMetric => $"exact_match,{Gsm8kTask.StrictMatch.Name}";

    public TaskResult Run(TaskRunContext context)
    {
        var options = new Gsm8kOptions(NumFewshot: context.NumFewshot ?? 5, Limit: context.Limit, MaxGenTokens: context.MaxGenTokens);
        var result = Gsm8kTask.Run(context.Model, context.Tokenizer, context.DataDirectory, options, context.Progress);
        var filters = new[] { (Name: Gsm8kTask.StrictMatch.Name, Score: result.StrictMatch), (Name: Gsm8kTask.FlexibleExtract.Name, Score: result.FlexibleExtract) };
        var metrics = filters.SelectMany(f => new KeyValuePair<string, double>[]
        {
            new($"exact_match,{f.Name}", f.Score.Mean), new(MeanMetric.StandardErrorName($"exact_match,{f.Name}"), f.Score.Stderr),
        }).ToList();
        var table = new MarkdownTable("task", "filter", "n-shot", "metric", "value", "stderr", "examples", "seconds");
        foreach (var (filter, score) in filters)
            table.AddRow(Name, filter, options.NumFewshot, "exact_match", Format(score.Mean), Format(score.Stderr), score.Count,
                result.Seconds.ToString("F1", CultureInfo.InvariantCulture));
        return new TaskResult(Name, metrics, result.Samples.Count, result.Seconds) { Table = table, Details = Details(result, options) };
    }

    private static string Format(double value) => value.ToString("F4", CultureInfo.InvariantCulture);

    private static JsonObject Details(Gsm8kResult result, Gsm8kOptions options) => new()
    {
        ["samples"] = result.Samples.Count,
        ["num_fewshot"] = options.NumFewshot,
        ["max_gen_toks"] = options.MaxGenTokens,
        ["truncated_contexts"] = result.Samples.Count(s => s.TruncatedTokens > 0),
        ["log"] = new JsonArray([.. result.Samples.Select(s => (JsonNode)new JsonObject
        {
            ["doc"] = s.Index, ["fewshot"] = new JsonArray([.. s.FewshotIndices.Select(i => (JsonNode)i)]),
            ["prompt_tokens"] = s.PromptTokens, ["truncated_tokens"] = s.TruncatedTokens, ["completion"] = s.Completion,
            ["strict"] = s.StrictAnswer, ["flexible"] = s.FlexibleAnswer, ["strict_correct"] = s.StrictCorrect,
            ["flexible_correct"] = s.FlexibleCorrect, ["stop_reason"] = s.StopReason,
        })]),
    };
}
