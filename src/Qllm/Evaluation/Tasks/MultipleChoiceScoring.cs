using Qllm.Evaluation.Harness;

namespace Qllm.Evaluation.Tasks;

/// <summary>One document's outcome: the choices' log-likelihoods, and acc / acc_norm for it.</summary>
public sealed record MultipleChoiceOutcome(double[] LogLikelihoods, double Acc, double AccNorm);

/// <summary>
/// lm-eval's multiple_choice process_results (lm_eval/api/task.py): pred = argmax(lls); acc_norm's pred =
/// argmax(lls / len(choice)), len counted in characters (Python code points) of the doc_to_choice string
/// without the delimiter; np.argmax keeps the first maximum.
/// </summary>
public static class MultipleChoiceScoring
{
    public static MultipleChoiceOutcome Score(LoglikelihoodScorer scorer, MultipleChoiceDocument document) => Score(scorer, [document])[0];

    /// <summary>Every document's outcome, their requests batched across documents; progress gets the documents done.</summary>
    public static MultipleChoiceOutcome[] Score(LoglikelihoodScorer scorer, IReadOnlyList<MultipleChoiceDocument> documents, Action<int>? progress = null)
    {
        var results = scorer.ScoreGroups(documents.Select(d => d.Requests).ToArray(), progress);
        return documents.Select((d, i) => Outcome(results[i].Select(r => r.LogLikelihood).ToArray(), d)).ToArray();
    }

    public static MultipleChoiceOutcome Outcome(double[] lls, MultipleChoiceDocument document)
    {
        var normalised = lls.Select((ll, i) => ll / CharacterLength(document.Choices[i])).ToArray();
        return new MultipleChoiceOutcome(lls,
            ArgMax(lls) == document.Gold ? 1 : 0,
            ArgMax(normalised) == document.Gold ? 1 : 0);
    }

    /// <summary>Python's len(str): code points, not UTF-16 units.</summary>
    public static int CharacterLength(string text) => text.EnumerateRunes().Count();

    public static int ArgMax(IReadOnlyList<double> values)
    {
        int best = 0;
        for (int i = 1; i < values.Count; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
