using System.CommandLine;
using Qllm.Common;
using Qllm.Generation;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// The sampling options of <c>generate</c> and <c>chat</c> (--temperature, --top-p, --seed, and the token budget, named
/// <paramref name="maxTokensName"/>), read and checked in one place.
/// </summary>
public sealed class SamplingOptions(string maxTokensName, string maxTokensDescription, float defaultTemperature)
{
    public Option<float> Temperature { get; } = new("--temperature", "-t") { Description = "Sampling temperature; 0 = greedy (argmax).", DefaultValueFactory = _ => defaultTemperature };
    public Option<float> TopP { get; } = new("--top-p") { Description = "Nucleus sampling: keep the smallest set of tokens whose probability exceeds P (1 = off).", DefaultValueFactory = _ => 0.9f };
    public Option<ulong> Seed { get; } = new("--seed", "-s") { Description = "Random seed (llama2.c's xorshift generator).", DefaultValueFactory = _ => 42UL };
    public Option<int> MaxNewTokens { get; } = new(maxTokensName, "-n") { Description = maxTokensDescription, DefaultValueFactory = _ => 256 };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Temperature, TopP, Seed, MaxNewTokens }) command.Options.Add(option);
    }

    public GenerationOptions Read(ParseResult result)
    {
        int n = result.GetValue(MaxNewTokens);
        float t = result.GetValue(Temperature), p = result.GetValue(TopP);
        if (n < 1) throw new QllmException($"{maxTokensName} must be at least 1, got {n}.");
        if (t < 0 || float.IsNaN(t)) throw new QllmException($"--temperature must be 0 or more, got {t}.");
        if (p < 0 || p > 1 || float.IsNaN(p)) throw new QllmException($"--top-p must be between 0 and 1, got {p}.");
        return new GenerationOptions(n, t, p, result.GetValue(Seed));
    }
}
