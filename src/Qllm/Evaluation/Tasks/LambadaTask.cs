using System.Diagnostics;
using Qllm.Evaluation.Harness;

namespace Qllm.Evaluation.Tasks;

/// <summary>
/// lambada_openai (lm_eval/tasks/lambada/lambada_openai.yaml): output_type loglikelihood, doc_to_text = the text
/// without its last space-separated word, doc_to_target = " " + that word; metrics perplexity (aggregation
/// perplexity = exp(−mean loglikelihood)) and acc (is_greedy). The mosaic file holds that context and word.
/// lm-eval bootstraps perplexity_stderr; here it is the delta-method value ppl · stderr(loglikelihood), which it
/// approximates.
/// </summary>
public sealed class LambadaTask : IEvaluationTask
{
    public string Name => "lambada_openai";
    public string HeadlineMetric => "acc";

    public static IReadOnlyList<LoglikelihoodRequest> LoadRequests(string dataDirectory) =>
        TaskFile.JsonLines(Path.Combine(dataDirectory, "lambada", "test.mosaic.jsonl")).Select(Request).ToArray();

    public static LoglikelihoodRequest Request(TaskRecord record) => new(record.String("context"), " " + record.String("continuation"));

    public TaskResult Run(TaskRunContext context)
    {
        if (context.NumFewshot is > 0) throw new Common.QllmException("--num-fewshot: lambada_openai is zero-shot here (lm-eval has no few-shot split for it).");
        var clock = Stopwatch.StartNew();
        var requests = context.Take(LoadRequests(context.DataDirectory));
        var results = context.Scorer.ScoreGroups(requests.Select(r => (IReadOnlyList<LoglikelihoodRequest>)[r]).ToArray(),
            done => context.Progress?.Invoke(done, requests.Count)).Select(r => r[0]).ToArray();
        return new TaskResult(Name, Metrics(results), results.Length, clock.Elapsed.TotalSeconds);
    }

    public static IReadOnlyList<KeyValuePair<string, double>> Metrics(IReadOnlyList<LoglikelihoodResult> results)
    {
        double[] lls = results.Select(r => r.LogLikelihood).ToArray();
        double perplexity = Math.Exp(-MeanMetric.Mean(lls));
        return
        [
            new("perplexity", perplexity),
            new("perplexity_stderr", perplexity * MeanMetric.StandardError(lls)),
            .. MeanMetric.WithStandardError("acc", results.Select(r => r.IsGreedy ? 1.0 : 0.0).ToArray()),
        ];
    }
}
