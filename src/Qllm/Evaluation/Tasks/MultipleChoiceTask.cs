using System.Diagnostics;
using Qllm.Common;

namespace Qllm.Evaluation.Tasks;

/// <summary>
/// A multiple_choice task: documents from a file, each scored by <see cref="MultipleChoiceScoring"/>, aggregated
/// as lm-eval does (mean, mean_stderr). Subclasses only build lm-eval's prompts from their data file.
/// </summary>
public abstract class MultipleChoiceTask : IEvaluationTask
{
    public abstract string Name { get; }

    /// <summary>True where the task's yaml lists acc_norm in metric_list.</summary>
    protected abstract bool ReportsAccNorm { get; }

    public virtual string HeadlineMetric => ReportsAccNorm ? "acc_norm" : "acc";

    /// <summary>The documents in file order, their prompts built as lm-eval builds them.</summary>
    public abstract IReadOnlyList<MultipleChoiceDocument> LoadDocuments(string dataDirectory, int? numFewshot);

    public virtual TaskResult Run(TaskRunContext context)
    {
        var clock = Stopwatch.StartNew();
        var documents = context.Take(LoadDocuments(context.DataDirectory, context.NumFewshot));
        var outcomes = MultipleChoiceScoring.Score(context.Scorer, documents, done => context.Progress?.Invoke(done, documents.Count));
        return new TaskResult(Name, Metrics(outcomes), outcomes.Length, clock.Elapsed.TotalSeconds);
    }

    public IReadOnlyList<KeyValuePair<string, double>> Metrics(IReadOnlyList<MultipleChoiceOutcome> outcomes)
    {
        var metrics = MeanMetric.WithStandardError("acc", outcomes.Select(o => o.Acc).ToArray()).ToList();
        if (ReportsAccNorm) metrics.AddRange(MeanMetric.WithStandardError("acc_norm", outcomes.Select(o => o.AccNorm).ToArray()));
        return metrics;
    }

    /// <summary>Tasks whose few-shot examples would come from a training split that the data folder does not hold.</summary>
    protected void RequireZeroShot(int? numFewshot)
    {
        if (numFewshot is > 0)
            throw new QllmException($"--num-fewshot: {Name} is zero-shot here (its training split, which lm-eval samples few-shot examples from, is not in the data folder).");
    }
}
