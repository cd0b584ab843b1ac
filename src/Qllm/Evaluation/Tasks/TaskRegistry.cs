using Qllm.Common;
using Qllm.Evaluation.Generation;

namespace Qllm.Evaluation.Tasks;

/// <summary>
/// The tasks <c>qllm eval --tasks</c> knows, by lm-eval name. A new task is one line here: its name and a factory.
/// </summary>
public static class TaskRegistry
{
    private static readonly Dictionary<string, Func<IEvaluationTask>> Factories = new()
    {
        ["boolq"] = () => new BoolqTask(),
        ["piqa"] = () => new PiqaTask(),
        ["arc_easy"] = ArcTask.Easy,
        ["arc_challenge"] = ArcTask.Challenge,
        ["hellaswag"] = () => new HellaswagTask(),
        ["winogrande"] = () => new WinograndeTask(),
        ["copa"] = () => new CopaTask(),
        ["storycloze_2016"] = () => new StoryClozeTask(),
        ["lambada_openai"] = () => new LambadaTask(),
        ["mmlu"] = () => new MmluTask(),
        ["truthfulqa_mc1"] = () => new TruthfulQaTask(mc2: false),
        ["truthfulqa_mc2"] = () => new TruthfulQaTask(mc2: true),
        [Gsm8kTask.Name] = () => new Gsm8kEvaluationTask(),
        [NeedleTask.Name] = () => new NeedleEvaluationTask(),
    };

    /// <summary>Short names accepted beside lm-eval's (lm-eval's group "storycloze" runs storycloze_2016 here).</summary>
    private static readonly Dictionary<string, string> Aliases = new() { ["storycloze"] = "storycloze_2016" };

    public static IEnumerable<string> Names => Factories.Keys;

    public static IEvaluationTask Create(string name)
    {
        string key = name.Trim().ToLowerInvariant();
        key = Aliases.GetValueOrDefault(key, key);
        return Factories.TryGetValue(key, out var factory)
            ? factory()
            : throw new QllmException($"--tasks: unknown task '{name}' (known: {string.Join(", ", Factories.Keys)}).");
    }

    /// <summary>Parses --tasks: a comma-separated list, each name once.</summary>
    public static IReadOnlyList<IEvaluationTask> Parse(string value)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new QllmException("--tasks: name at least one task.");
        var tasks = names.Select(Create).ToArray();
        var repeated = tasks.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (repeated != null) throw new QllmException($"--tasks: '{repeated.Key}' is named twice.");
        return tasks;
    }
}
