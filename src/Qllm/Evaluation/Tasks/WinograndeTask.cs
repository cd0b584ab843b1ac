namespace Qllm.Evaluation.Tasks;

/// <summary>
/// winogrande (lm_eval/tasks/winogrande/default.yaml, preprocess_winogrande.py): partial scoring. doc_to_choice is
/// the sentence up to the blank with each option filled in (the contexts), doc_to_target the text after the blank,
/// stripped (the shared continuation, after the delimiter " "); gold is doc_to_text (answer − 1); metric acc.
/// The mosaic file holds exactly those contexts and the stripped continuation.
/// </summary>
public sealed class WinograndeTask : MultipleChoiceTask
{
    public override string Name => "winogrande";
    protected override bool ReportsAccNorm => false;

    public override IReadOnlyList<MultipleChoiceDocument> LoadDocuments(string dataDirectory, int? numFewshot)
    {
        RequireZeroShot(numFewshot);
        return TaskFile.JsonLines(Path.Combine(dataDirectory, "winogrande", "dev.mosaic.jsonl")).Select(Document).ToArray();
    }

    public static MultipleChoiceDocument Document(TaskRecord record)
    {
        string[] contexts = record.Strings("context_options");
        if (contexts.Length != 2) throw record.Error($"{contexts.Length} context_options, expected 2");
        string continuation = " " + record.String("continuation");
        return new MultipleChoiceDocument(contexts.Select(c => new Harness.LoglikelihoodRequest(c, continuation)).ToArray(),
            record.Index(record.Int("gold"), 2, "gold"), contexts);
    }
}
