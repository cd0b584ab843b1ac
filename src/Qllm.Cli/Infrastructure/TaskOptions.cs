using System.CommandLine;
using Qllm.Common;
using Qllm.Evaluation.Harness;
using Qllm.Evaluation.Tasks;

namespace Qllm.Cli.Infrastructure;

/// <summary>The options of lm-eval style tasks in <c>qllm eval</c>: --tasks, --num-fewshot, --batch-size and the scoring switches.</summary>
public sealed class TaskOptions
{
    public Option<string?> Tasks { get; } = new("--tasks")
    {
        Description = $"Comma-separated lm-evaluation-harness tasks to score: {string.Join(", ", TaskRegistry.Names)}.",
    };

    public Option<int?> NumFewshot { get; } = new("--num-fewshot")
    {
        Description = "Few-shot examples per prompt (default: each task's own, 0; mmlu 5 from dev).",
    };

    public Option<int> BatchSize { get; } = new("--batch-size")
    {
        Description = "Loglikelihood requests run through the model together, across questions (right-padded; results do not change).",
        DefaultValueFactory = _ => 8,
    };

    public Option<bool> AddBos { get; } = new("--add-bos")
    {
        Description = "Prepend BOS to contexts, as lm-eval's add_bos_token=True (its default is False).",
    };

    public Option<int> MaxGenTokens { get; } = new("--max-gen-toks")
    {
        Description = "Generation tasks (gsm8k): most tokens generated per answer; the context is left-truncated to the model's positions minus this (lm-eval's max_gen_toks).",
        DefaultValueFactory = _ => 256,
    };

    public Option<bool> NoPrefixReuse { get; } = new("--no-prefix-reuse")
    {
        Description = "Score every choice from scratch instead of prefilling the question's shared prefix once (same results, slower).",
    };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Tasks, NumFewshot, BatchSize, MaxGenTokens, AddBos, NoPrefixReuse }) command.Options.Add(option);
    }

    /// <summary>The tasks named by --tasks (none when it is absent), checked before the model loads.</summary>
    public IReadOnlyList<IEvaluationTask> ReadTasks(ParseResult result)
    {
        if (result.GetValue(NumFewshot) is < 0) throw new QllmException($"--num-fewshot must be at least 0, got {result.GetValue(NumFewshot)}.");
        if (result.GetValue(MaxGenTokens) < 1) throw new QllmException($"--max-gen-toks must be at least 1, got {result.GetValue(MaxGenTokens)}.");
        if (result.GetValue(BatchSize) < 1) throw new QllmException($"--batch-size must be at least 1, got {result.GetValue(BatchSize)}.");
        return result.GetValue(Tasks) is { } value ? TaskRegistry.Parse(value) : [];
    }

    public LoglikelihoodOptions ReadScoring(ParseResult result) =>
        new(result.GetValue(BatchSize), ReusePrefix: !result.GetValue(NoPrefixReuse), AddBos: result.GetValue(AddBos));
}
