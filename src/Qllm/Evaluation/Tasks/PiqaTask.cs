namespace Qllm.Evaluation.Tasks;

/// <summary>
/// piqa (lm_eval/tasks/piqa/piqa.yaml): validation split, doc_to_text "Question: {{goal}}\nAnswer:",
/// doc_to_choice [sol1, sol2], doc_to_target label, metrics acc and acc_norm. Reads the official valid.jsonl and
/// valid-labels.lst line by line.
/// </summary>
public sealed class PiqaTask : MultipleChoiceTask
{
    public override string Name => "piqa";
    protected override bool ReportsAccNorm => true;

    public override IReadOnlyList<MultipleChoiceDocument> LoadDocuments(string dataDirectory, int? numFewshot)
    {
        RequireZeroShot(numFewshot);
        string labelsPath = Path.Combine(dataDirectory, "piqa", "valid-labels.lst");
        int[] labels = TaskFile.IntegerLines(labelsPath);
        var records = TaskFile.JsonLines(Path.Combine(dataDirectory, "piqa", "valid.jsonl")).ToArray();
        if (records.Length != labels.Length)
            throw new Common.ModelFormatException(labelsPath, $"{labels.Length} labels for {records.Length} questions");
        return records.Select((r, i) => Document(r, labels[i])).ToArray();
    }

    public static MultipleChoiceDocument Document(TaskRecord record, int label) =>
        MultipleChoiceDocument.SharedContext($"Question: {record.String("goal")}\nAnswer:",
            [record.String("sol1"), record.String("sol2")], record.Index(label, 2, "label"));
}
