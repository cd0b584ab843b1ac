namespace Qllm.Evaluation.Tasks;

/// <summary>
/// arc_easy / arc_challenge (lm_eval/tasks/arc/arc_easy.yaml, arc_challenge.yaml): test split, doc_to_text
/// "Question: {{question}}\nAnswer:", doc_to_choice "{{choices.text}}", doc_to_target
/// "{{choices.label.index(answerKey)}}", metrics acc and acc_norm. The files use ARC's original schema
/// (question.stem, question.choices[label, text], answerKey).
/// </summary>
public sealed class ArcTask(string name, string fileName) : MultipleChoiceTask
{
    public static ArcTask Easy() => new("arc_easy", "ARC-Easy-test.jsonl");
    public static ArcTask Challenge() => new("arc_challenge", "ARC-Challenge-test.jsonl");

    public override string Name => name;
    protected override bool ReportsAccNorm => true;

    public override IReadOnlyList<MultipleChoiceDocument> LoadDocuments(string dataDirectory, int? numFewshot)
    {
        RequireZeroShot(numFewshot);
        return TaskFile.JsonLines(Path.Combine(dataDirectory, "arc", fileName)).Select(Document).ToArray();
    }

    public static MultipleChoiceDocument Document(TaskRecord record)
    {
        var question = record.Object("question");
        if (!question.Element.TryGetProperty("choices", out var list) || list.ValueKind != System.Text.Json.JsonValueKind.Array)
            throw record.Error("no array field 'question.choices'");
        var choices = list.EnumerateArray().Select(c => record with { Element = c }).ToArray();
        string[] labels = choices.Select(c => c.String("label")).ToArray();
        string answer = record.String("answerKey");
        int gold = Array.IndexOf(labels, answer);
        if (gold < 0) throw record.Error($"answerKey '{answer}' is not one of the labels {string.Join(",", labels)}");
        return MultipleChoiceDocument.SharedContext($"Question: {question.String("stem")}\nAnswer:", choices.Select(c => c.String("text")).ToArray(), gold);
    }
}
