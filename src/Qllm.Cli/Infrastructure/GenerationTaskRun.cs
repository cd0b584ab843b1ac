using System.Text.Json.Nodes;
using Qllm.Evaluation.Generation;
using Qllm.Models;
using Qllm.Reporting;
using Qllm.Tokenizers;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// Runs the generation tasks for <c>eval --tasks</c> with progress on stderr: a Markdown table per task on stdout, and the
/// results as JSON under lm-eval's names (<c>results.gsm8k["exact_match,strict-match"]</c>, …).
/// </summary>
public static class GenerationTaskRun
{
    public static JsonObject Run(IEnumerable<string> tasks, CausalLanguageModel model, ITextTokenizer tokenizer, string dataDirectory,
        int? limit, int? numFewshot, int maxGenTokens, JsonObject timings)
    {
        var results = new JsonObject();
        foreach (string task in tasks)
        {
            if (task == Gsm8kTask.Name)
            {
                var options = new Gsm8kOptions(NumFewshot: numFewshot ?? 5, Limit: limit, MaxGenTokens: maxGenTokens);
                var gsm8k = ConsoleOutput.WithProgress(task, report => Gsm8kTask.Run(model, tokenizer, dataDirectory, options,
                    (done, total) => report(done / (double)total, $"{done}/{total}")));
                results[task] = Gsm8kJson(gsm8k, options);
                timings[task] = new JsonObject { ["eval_s"] = gsm8k.Seconds };
                Console.Write(Gsm8kTable(gsm8k, options));
            }
            else
            {
                var needle = ConsoleOutput.WithProgress(task, report => NeedleTask.Run(model, tokenizer, dataDirectory,
                    (done, total) => report(done / (double)total, $"{done}/{total}")));
                results[task] = NeedleJson(needle);
                timings[task] = new JsonObject { ["eval_s"] = needle.Seconds };
                Console.Write(NeedleTable(needle));
            }
        }
        return results;
    }

    private static JsonObject Gsm8kJson(Gsm8kResult result, Gsm8kOptions options)
    {
        var json = new JsonObject();
        foreach (var (filter, score) in new[] { (Gsm8kTask.StrictMatch.Name, result.StrictMatch), (Gsm8kTask.FlexibleExtract.Name, result.FlexibleExtract) })
        {
            json[$"exact_match,{filter}"] = score.Mean;
            json[$"exact_match_stderr,{filter}"] = score.Stderr;
        }
        json["samples"] = result.Samples.Count;
        json["num_fewshot"] = options.NumFewshot;
        json["max_gen_toks"] = options.MaxGenTokens;
        json["truncated_contexts"] = result.Samples.Count(s => s.TruncatedTokens > 0);
        json["log"] = new JsonArray([.. result.Samples.Select(s => (JsonNode)new JsonObject
        {
            ["doc"] = s.Index, ["fewshot"] = new JsonArray([.. s.FewshotIndices.Select(i => (JsonNode)i)]),
            ["prompt_tokens"] = s.PromptTokens, ["truncated_tokens"] = s.TruncatedTokens, ["completion"] = s.Completion,
            ["strict"] = s.StrictAnswer, ["flexible"] = s.FlexibleAnswer, ["strict_correct"] = s.StrictCorrect,
            ["flexible_correct"] = s.FlexibleCorrect, ["stop_reason"] = s.StopReason,
        })]);
        return json;
    }

    private static string Gsm8kTable(Gsm8kResult result, Gsm8kOptions options)
    {
        var table = new MarkdownTable("task", "filter", "n-shot", "metric", "value", "stderr", "examples", "seconds");
        foreach (var (filter, score) in new[] { (Gsm8kTask.StrictMatch.Name, result.StrictMatch), (Gsm8kTask.FlexibleExtract.Name, result.FlexibleExtract) })
            table.AddRow(Gsm8kTask.Name, filter, options.NumFewshot, "exact_match", score.Mean.ToString("F4"), score.Stderr.ToString("F4"),
                score.Count, result.Seconds.ToString("F1"));
        return table.ToString();
    }

    private static JsonObject NeedleJson(NeedleResult result) => new()
    {
        ["passed"] = result.Passed,
        ["total"] = result.Samples.Count,
        ["pass_rate"] = result.Samples.Count == 0 ? 0 : result.Passed / (double)result.Samples.Count,
        ["full_haystack_lines"] = result.FullHaystackLines,
        ["keys"] = new JsonArray([.. result.Samples.Select(s => (JsonNode)new JsonObject
        {
            ["target"] = s.Target, ["answer"] = s.Answer, ["passed"] = s.Passed, ["prompt_tokens"] = s.PromptTokens,
            ["new_tokens"] = s.NewTokens, ["haystack_lines_per_side"] = s.HaystackLines, ["shortened"] = s.Shortened,
        })]),
    };

    private static string NeedleTable(NeedleResult result)
    {
        var table = new MarkdownTable("pass key", "answer", "passed", "prompt tokens", "haystack lines/side");
        foreach (var s in result.Samples)
            table.AddRow(s.Target, s.Answer.ReplaceLineEndings("\\n"), s.Passed ? "yes" : "no", s.PromptTokens,
                s.Shortened ? $"{s.HaystackLines} of {result.FullHaystackLines}" : s.HaystackLines.ToString());
        table.AddRow("**total**", "", $"{result.Passed}/{result.Samples.Count}", "", "");
        return table.ToString();
    }
}
