namespace Qllm.Evaluation.Tasks;

/// <summary>
/// storycloze_2016 (lm_eval/tasks/storycloze/storycloze_2016.yaml): test split (lm-eval evaluates test_split when
/// a task has one), doc_to_text the four sentences joined with " ", doc_to_choice [quiz1, quiz2], doc_to_target
/// answer_right_ending − 1, metric acc.
/// </summary>
public sealed class StoryClozeTask : MultipleChoiceTask
{
    private static readonly string[] Header =
    [
        "InputStoryid", "InputSentence1", "InputSentence2", "InputSentence3", "InputSentence4",
        "RandomFifthSentenceQuiz1", "RandomFifthSentenceQuiz2", "AnswerRightEnding",
    ];

    public override string Name => "storycloze_2016";
    protected override bool ReportsAccNorm => false;

    public override IReadOnlyList<MultipleChoiceDocument> LoadDocuments(string dataDirectory, int? numFewshot)
    {
        RequireZeroShot(numFewshot);
        return CsvFile.Read(Path.Combine(dataDirectory, "storycloze", "cloze_test_test__spring2016.csv"), Header).Select(Document).ToArray();
    }

    public static MultipleChoiceDocument Document(CsvRecord record)
    {
        int answer = record.Int(7, "AnswerRightEnding");
        if (answer is not (1 or 2)) throw record.Error($"AnswerRightEnding {answer} is not 1 or 2");
        return MultipleChoiceDocument.SharedContext(string.Join(' ', record.Fields[1..5]), [record.Fields[5], record.Fields[6]], answer - 1);
    }
}
