namespace Qllm.Evaluation.Tasks;

/// <summary>
/// boolq (lm_eval/tasks/super_glue/boolq/default.yaml): doc_to_text "{{passage}}\nQuestion: {{question}}?\nAnswer:",
/// doc_to_choice ["no", "yes"], metric acc. The mosaic file's query is "Passage: {passage}\nQuestion: {question}?"
/// (a trailing "\n" allowed): dropping "Passage: " and appending "\nAnswer:" gives lm-eval's text exactly.
/// </summary>
public sealed class BoolqTask : MultipleChoiceTask
{
    private const string PassagePrefix = "Passage: ";

    public override string Name => "boolq";
    protected override bool ReportsAccNorm => false;

    public override IReadOnlyList<MultipleChoiceDocument> LoadDocuments(string dataDirectory, int? numFewshot)
    {
        RequireZeroShot(numFewshot);
        return TaskFile.JsonLines(Path.Combine(dataDirectory, "boolq", "dev.mosaic.jsonl")).Select(Document).ToArray();
    }

    public static MultipleChoiceDocument Document(TaskRecord record)
    {
        string query = record.String("query").TrimEnd('\n');
        if (!query.StartsWith(PassagePrefix, StringComparison.Ordinal) || !query.Contains("\nQuestion: ", StringComparison.Ordinal))
            throw record.Error("query is not 'Passage: …\\nQuestion: …'");
        string[] choices = record.Strings("choices");
        if (!choices.SequenceEqual(["no", "yes"])) throw record.Error("choices are not [\"no\", \"yes\"]");
        return MultipleChoiceDocument.SharedContext(query[PassagePrefix.Length..] + "\nAnswer:", choices, record.Index(record.Int("gold"), 2, "gold"));
    }
}
