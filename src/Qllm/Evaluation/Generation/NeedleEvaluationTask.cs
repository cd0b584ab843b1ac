using System.Text.Json.Nodes;
using Qllm.Evaluation.Tasks;
using Qllm.Reporting;

namespace Qllm.Evaluation.Generation;

/// <summary>needle in <c>eval --tasks</c>: <see cref="NeedleTask"/>'s pass rate, the table of its five pass keys, and each key's reply in the JSON.</summary>
public sealed class NeedleEvaluationTask : IEvaluationTask
{
    public string Name => NeedleTask.Name;
    public string HeadlineMetric => "pass_rate";

    public TaskResult Run(TaskRunContext context)
    {
        var result = NeedleTask.Run(context.Model, context.Tokenizer, context.DataDirectory, context.Progress);
        int total = result.Samples.Count;
        var metrics = new KeyValuePair<string, double>[] { new("pass_rate", total == 0 ? 0 : result.Passed / (double)total), new("passed", result.Passed), new("total", total) };
        var table = new MarkdownTable("pass key", "answer", "passed", "prompt tokens", "haystack lines/side");
        foreach (var s in result.Samples)
            table.AddRow(s.Target, s.Answer.ReplaceLineEndings("\\n"), s.Passed ? "yes" : "no", s.PromptTokens,
                s.Shortened ? $"{s.HaystackLines} of {result.FullHaystackLines}" : s.HaystackLines.ToString());
        table.AddRow("**total**", "", $"{result.Passed}/{total}", "", "");
        var details = new JsonObject
        {
            ["full_haystack_lines"] = result.FullHaystackLines,
            ["keys"] = new JsonArray([.. result.Samples.Select(s => (JsonNode)new JsonObject
            {
                ["target"] = s.Target, ["answer"] = s.Answer, ["passed"] = s.Passed, ["prompt_tokens"] = s.PromptTokens,
                ["new_tokens"] = s.NewTokens, ["haystack_lines_per_side"] = s.HaystackLines, ["shortened"] = s.Shortened,
            })]),
        };
        return new TaskResult(Name, metrics, total, result.Seconds) { Table = table, Details = details };
    }
}
