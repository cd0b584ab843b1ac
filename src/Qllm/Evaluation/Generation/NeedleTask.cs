using System.Text.Json;
using Qllm.Common;
using Qllm.Evaluation.Tasks;
using Qllm.Generation;
using Qllm.Models;
using Qllm.Tokenizers;

namespace Qllm.Evaluation.Generation;

/// <summary>One pass key: the sentence hidden in the haystack and the key the reply must contain.</summary>
public sealed record Needle(string Input, string Target);

/// <summary>What the model answered for one pass key. <paramref name="HaystackLines"/> is the filler lines on each side of the needle.</summary>
public sealed record NeedleSample(string Target, string Answer, bool Passed, int PromptTokens, int NewTokens, int HaystackLines, bool Shortened);

public sealed record NeedleResult(IReadOnlyList<NeedleSample> Samples, int FullHaystackLines, double Seconds)
{
    public int Passed => Samples.Count(s => s.Passed);
}

/// <summary>
/// Needle-in-a-haystack as qllm-infer runs it (utils/needle_in_a_haystack/needle_in_a_haystack_example.py, after KIVI's
/// long_context_example.py): prompt = prefix + 5 × haystack + needle + 5 × haystack + postfix, encoded with BOS; greedy
/// generation of as many tokens as <c>tokenizer(target)</c> has (BOS included, as there); the pass key passes when the
/// reply contains it.
/// <para>A model with fewer positions than the full prompt needs (stories260K has 512) gets the same prompt with the
/// repeated haystack cut to its first L lines on each side, L the largest that leaves room for the reply — the needle
/// stays in the middle.</para>
/// </summary>
public static class NeedleTask
{
    public const string Name = "needle";
    public const int HaystackRepeats = 5;
    public const string PromptPrefix = "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.\n";
    public const string PromptPostfix = "What is the pass key? The pass key is ";

    public static string HaystackPath(string dataDirectory) => Path.Combine(dataDirectory, "needle", "haystack_example.jsonl");
    public static string NeedlesPath(string dataDirectory) => Path.Combine(dataDirectory, "needle", "needle_examples.jsonl");

    /// <summary>The haystack file is one JSON object {"input": text} (qllm-infer reads it whole with json.loads).</summary>
    public static string LoadHaystack(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("input", out var input)
                   && input.ValueKind == JsonValueKind.String
                ? input.GetString()!
                : throw new ModelFormatException(path, "expected one JSON object with a string field 'input'");
        }
        catch (JsonException e) { throw new ModelFormatException(path, $"line {e.LineNumber + 1}: not valid JSON ({e.Message})"); }
    }

    public static IReadOnlyList<Needle> LoadNeedles(string path) =>
        [.. TaskFile.JsonLines(path).Select(r => new Needle(r.String("input"), r.String("target")))];

    /// <summary>The prompt with the first <paramref name="lines"/> lines of the 5× haystack on each side of the needle.</summary>
    public static string BuildPrompt(IReadOnlyList<string> haystackLines, Needle needle, int lines)
    {
        string side = string.Concat(haystackLines.Take(lines));
        return PromptPrefix + side + needle.Input + side + PromptPostfix;
    }

    /// <summary>The 5× haystack as lines, each keeping its "\n", so that all of them joined give the original text.</summary>
    public static IReadOnlyList<string> RepeatedLines(string haystack)
    {
        var lines = new List<string>();
        string repeated = string.Concat(Enumerable.Repeat(haystack, HaystackRepeats));
        for (int start = 0; start < repeated.Length;)
        {
            int end = repeated.IndexOf('\n', start);
            end = end < 0 ? repeated.Length : end + 1;
            lines.Add(repeated[start..end]);
            start = end;
        }
        return lines;
    }

    public static NeedleResult Run(CausalLanguageModel model, ITextTokenizer tokenizer, string dataDirectory, Action<int, int>? progress = null)
    {
        var haystack = RepeatedLines(LoadHaystack(HaystackPath(dataDirectory)));
        var needles = LoadNeedles(NeedlesPath(dataDirectory));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var generator = new TextGenerator(model, tokenizer);
        var samples = new List<NeedleSample>(needles.Count);
        foreach (var needle in needles)
        {
            int newTokens = tokenizer.Encode(needle.Target, addBos: true).Length;
            int room = model.Config.MaxPositions - newTokens;
            int lines = LargestFitting(haystack.Count, n => tokenizer.Encode(BuildPrompt(haystack, needle, n), addBos: true).Length <= room);
            if (lines < 0)
                throw new QllmException($"needle: even without haystack the prompt and the {newTokens}-token reply exceed the model's {model.Config.MaxPositions} positions.");
            int[] prompt = tokenizer.Encode(BuildPrompt(haystack, needle, lines), addBos: true);
            var reply = generator.Generate(prompt, new GenerationOptions(newTokens, Temperature: 0f));
            samples.Add(new NeedleSample(needle.Target, reply.Completion, reply.Completion.Contains(needle.Target, StringComparison.Ordinal),
                prompt.Length, reply.NewTokens.Length, lines, lines < haystack.Count));
            progress?.Invoke(samples.Count, needles.Count);
        }
        return new NeedleResult(samples, haystack.Count, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The largest n in [0, max] with <paramref name="fits"/>(n) (which holds for all smaller n), or -1 when none.</summary>
    private static int LargestFitting(int max, Func<int, bool> fits)
    {
        if (fits(max)) return max;
        if (!fits(0)) return -1;
        int low = 0, high = max; // fits(low), !fits(high)
        while (high - low > 1)
        {
            int middle = (low + high) / 2;
            if (fits(middle)) low = middle; else high = middle;
        }
        return low;
    }
}
