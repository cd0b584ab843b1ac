using System.CommandLine;
using Qllm.Common;
using Qllm.Evaluation.Generation;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// <c>eval --tasks</c> for the generation tasks (gsm8k, needle), with --num-fewshot and --max-gen-toks; --limit (the
/// eval command's) caps the examples per task.
/// </summary>
public sealed class GenerationTaskOptions
{
    public static readonly IReadOnlyList<string> Names = [Gsm8kTask.Name, NeedleTask.Name];

    public Option<string?> Tasks { get; } = new("--tasks") { Description = $"Comma-separated tasks to run: {string.Join(", ", Names)}." };
    public Option<int?> NumFewshot { get; } = new("--num-fewshot") { Description = "Few-shot examples per prompt (default: the task's, 5 for gsm8k)." };
    public Option<int> MaxGenTokens { get; } = new("--max-gen-toks")
    {
        Description = "gsm8k: most tokens generated per answer; the context is left-truncated to the model's positions minus this (lm-eval's max_gen_toks).",
        DefaultValueFactory = _ => 256,
    };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Tasks, NumFewshot, MaxGenTokens }) command.Options.Add(option);
    }

    /// <summary>The tasks named by --tasks, checked, or null when the option is absent.</summary>
    public string[]? ReadTasks(ParseResult result)
    {
        if (result.GetValue(Tasks) is not { } value) return null;
        string[] tasks = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (tasks.Length == 0) throw new QllmException("--tasks: name at least one task.");
        foreach (string task in tasks)
            if (!Names.Contains(task)) throw new QllmException($"--tasks: '{task}' is not one of {string.Join(", ", Names)}.");
        if (result.GetValue(NumFewshot) is < 0) throw new QllmException($"--num-fewshot must be 0 or more, got {result.GetValue(NumFewshot)}.");
        if (result.GetValue(MaxGenTokens) < 1) throw new QllmException($"--max-gen-toks must be at least 1, got {result.GetValue(MaxGenTokens)}.");
        return tasks;
    }
}
