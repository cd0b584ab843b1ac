using System.Diagnostics;
using System.Text;
using Qllm.Common;

namespace Qllm.Evaluation.Tasks;

/// <summary>
/// mmlu (lm_eval/tasks/mmlu/default: _default_template_yaml, mmlu_*.yaml, _mmlu*.yaml). Per subject: description
/// "The following are multiple choice questions (with answers) about {subject with spaces}.\n\n"; doc_to_text
/// "{{question.strip()}}\nA. {{choices[0]}}\nB. …\nD. {{choices[3]}}\nAnswer:"; doc_to_choice ["A","B","C","D"]
/// (continuations " A" … " D"); few-shot examples from dev with the first_n sampler, each "text + ' ' + letter",
/// joined and followed by the fewshot_delimiter "\n\n"; metric acc. Five shots unless --num-fewshot says otherwise.
/// <para>
/// Groups: mmlu_stem/humanities/social_sciences/other and mmlu are weighted by size in lm-eval v0.4
/// (weight_by_size: True), i.e. the mean over all their questions, with pooled_sample_stderr. The unweighted
/// mean of the subjects is reported beside it as acc_subject_mean.
/// </para>
/// </summary>
public sealed class MmluTask : IEvaluationTask
{
    public const int DefaultShots = 5;
    private static readonly string[] Header = ["question", "choice0", "choice1", "choice2", "choice3", "answer"];
    private static readonly string[] Letters = ["A", "B", "C", "D"];

    public string Name => "mmlu";
    public string HeadlineMetric => "acc";

    public static string Description(string subject) =>
        $"The following are multiple choice questions (with answers) about {subject.Replace('_', ' ')}.\n\n";

    public static string QuestionText(CsvRecord row) =>
        $"{row.Fields[0].Trim()}\nA. {row.Fields[1]}\nB. {row.Fields[2]}\nC. {row.Fields[3]}\nD. {row.Fields[4]}\nAnswer:";

    public static int Answer(CsvRecord row)
    {
        int answer = row.Int(5, "answer");
        return answer is >= 0 and <= 3 ? answer : throw row.Error($"answer {answer} is not 0..3");
    }

    /// <summary>The few-shot prefix of a subject: the description and the first <paramref name="shots"/> dev questions with their answers.</summary>
    public static string FewShotPrefix(string subject, IReadOnlyList<CsvRecord> dev, int shots)
    {
        var prefix = new StringBuilder(Description(subject));
        foreach (var row in dev.Take(shots)) prefix.Append(QuestionText(row)).Append(' ').Append(Letters[Answer(row)]).Append("\n\n");
        return prefix.ToString();
    }

    public static IReadOnlyList<MultipleChoiceDocument> LoadSubject(string dataDirectory, string subject, int shots)
    {
        var dev = CsvFile.Read(Path.Combine(dataDirectory, "mmlu", "dev", $"{subject}_dev.csv"), Header).ToArray();
        if (dev.Length < shots)
            throw new QllmException($"--num-fewshot: {shots} shots asked, but mmlu dev holds {dev.Length} questions for {subject}.");
        string prefix = FewShotPrefix(subject, dev, shots);
        return CsvFile.Read(Path.Combine(dataDirectory, "mmlu", "test", $"{subject}_test.csv"), Header)
            .Select(row => MultipleChoiceDocument.SharedContext(prefix + QuestionText(row), Letters, Answer(row))).ToArray();
    }

    public TaskResult Run(TaskRunContext context)
    {
        int shots = context.NumFewshot ?? DefaultShots;
        if (shots < 0) throw new QllmException($"--num-fewshot must be at least 0, got {shots}.");
        var clock = Stopwatch.StartNew();
        var subjects = MmluSubjects.Names.Select(s => (Name: s, Documents: context.Take(LoadSubject(context.DataDirectory, s, shots)))).ToArray();
        int total = subjects.Sum(s => s.Documents.Count), done = 0;
        var results = new List<(string Subject, double[] Acc, TaskResult Result)>();
        foreach (var (subject, documents) in subjects)
        {
            var subjectClock = Stopwatch.StartNew();
            int before = done;
            double[] acc = MultipleChoiceScoring.Score(context.Scorer, documents, n => context.Progress?.Invoke(before + n, total)).Select(o => o.Acc).ToArray();
            done += documents.Count;
            results.Add((subject, acc, new TaskResult($"mmlu_{subject}", MeanMetric.WithStandardError("acc", acc).ToArray(), acc.Length, subjectClock.Elapsed.TotalSeconds)));
        }

        var categories = MmluSubjects.Categories.Select(category =>
            Group($"mmlu_{category}", results.Where(r => MmluSubjects.Category[r.Subject] == category).Select(r => r.Result).ToArray())).ToArray();
        var overall = Group(Name, categories);
        return overall with
        {
            // Over the 57 subjects, not the 4 categories Group averaged.
            Metrics = [.. overall.Metrics.Where(m => m.Key != "acc_subject_mean"), new("acc_subject_mean", MeanMetric.Mean(results.Select(r => r.Result["acc"]).ToArray()))],
            Seconds = clock.Elapsed.TotalSeconds,
            Subtasks = [.. categories, .. results.Select(r => r.Result)],
        };
    }

    /// <summary>lm-eval's size-weighted group: the mean over every question of its members, and the pooled stderr.</summary>
    public static TaskResult Group(string name, IReadOnlyList<TaskResult> members)
    {
        int size = members.Sum(m => m.Examples);
        double acc = members.Sum(m => m["acc"] * m.Examples) / size;
        double stderr = MeanMetric.PooledStandardError(members.Select(m => (m["acc_stderr"], m.Examples)).ToArray());
        double subjectMean = MeanMetric.Mean(members.Select(m => m["acc"]).ToArray());
        return new TaskResult(name, [new("acc", acc), new("acc_stderr", stderr), new("acc_subject_mean", subjectMean)], size, members.Sum(m => m.Seconds));
    }
}
