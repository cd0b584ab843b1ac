using Qllm.Common;
using Qllm.Evaluation.Tasks;
using Qllm.Generation;
using Qllm.Models;
using Qllm.Tokenizers;

namespace Qllm.Evaluation.Generation;

/// <summary>Options of <see cref="Gsm8kTask"/>; the defaults are lm-eval's gsm8k.yaml (version 3.0) and HFLM's.</summary>
/// <param name="MaxGenTokens">HFLM's max_gen_toks (the yaml sets none): the most new tokens, and the room kept free when the context is left-truncated.</param>
/// <param name="FewshotSeed">lm-eval's default fewshot_random_seed.</param>
public sealed record Gsm8kOptions(int NumFewshot = 5, int? Limit = null, int MaxGenTokens = 256, ulong FewshotSeed = 1234);

/// <summary>One GSM8K item: the question, and the worked answer ending in "#### N".</summary>
public sealed record Gsm8kDocument(string Question, string Answer);

/// <summary>What the model did on one test question.</summary>
public sealed record Gsm8kSample(int Index, int[] FewshotIndices, int PromptTokens, int TruncatedTokens, string Completion,
    string StrictAnswer, string FlexibleAnswer, bool StrictCorrect, bool FlexibleCorrect, string StopReason);

public sealed record Gsm8kResult(IReadOnlyList<Gsm8kSample> Samples, double Seconds)
{
    public MeanWithStderr StrictMatch => MeanWithStderr.Of(Samples.Select(s => s.StrictCorrect ? 1.0 : 0.0).ToList());
    public MeanWithStderr FlexibleExtract => MeanWithStderr.Of(Samples.Select(s => s.FlexibleCorrect ? 1.0 : 0.0).ToList());
}

/// <summary>
/// GSM8K as lm-evaluation-harness v0.4's <c>gsm8k</c> task (lm_eval/tasks/gsm8k/gsm8k.yaml, version 3.0):
/// <list type="bullet">
/// <item>prompt: <c>num_fewshot</c> train examples drawn by the default sampler (one <c>random.Random(1234)</c> per task,
/// <c>rnd.sample(train, k)</c> once per test document in order), each "Question: q\nAnswer: a" (target delimiter " ")
/// followed by "\n\n", then "Question: q\nAnswer:";</item>
/// <item>greedy generation until "Question:", "&lt;/s&gt;", "&lt;|im_end|&gt;" or EOS, at most max_gen_toks tokens, the context encoded
/// without special tokens and left-truncated to max_length − max_gen_toks (HFLM.generate_until);</item>
/// <item>exact_match against the full answer, ignoring case, ",", "$", everything up to "#### ", and a final "." — after the
/// strict-match filter ("#### (\-?[0-9\.\,]+)", first match) and the flexible-extract filter ("(-?[$0-9.,]{2,})|(-?[0-9]+)", last match).</item>
/// </list>
/// </summary>
public static class Gsm8kTask
{
    public const string Name = "gsm8k";
    public static readonly IReadOnlyList<string> Until = ["Question:", "</s>", "<|im_end|>"];

    public static readonly RegexAnswerFilter StrictMatch = new("strict-match", @"#### (\-?[0-9\.\,]+)");
    public static readonly RegexAnswerFilter FlexibleExtract = new("flexible-extract", @"(-?[$0-9.,]{2,})|(-?[0-9]+)", groupSelect: -1);
    public static readonly ExactMatch Metric = new([",", @"\$", "(?s).*#### ", @"\.$"], ignoreCase: true, ignorePunctuation: false);

    public static string TestPath(string dataDirectory) => Path.Combine(dataDirectory, "gsm8k", "test.jsonl");
    public static string TrainPath(string dataDirectory) => Path.Combine(dataDirectory, "gsm8k", "train.jsonl");

    public static IReadOnlyList<Gsm8kDocument> Load(string path) =>
        [.. TaskFile.JsonLines(path).Select(r => new Gsm8kDocument(r.String("question"), r.String("answer")))];

    /// <summary>doc_to_text.</summary>
    public static string DocToText(Gsm8kDocument doc) => $"Question: {doc.Question}\nAnswer:";

    /// <summary>The few-shot prompts of the first <paramref name="count"/> test documents, with the train indices each drew.</summary>
    public static IReadOnlyList<(string Prompt, int[] FewshotIndices)> Prompts(IReadOnlyList<Gsm8kDocument> test, IReadOnlyList<Gsm8kDocument> train,
        int count, int numFewshot, ulong seed)
    {
        if (numFewshot > train.Count) throw new QllmException($"--num-fewshot {numFewshot}: the train split has only {train.Count} examples.");
        var random = new PythonRandom(seed);
        var prompts = new List<(string, int[])>(count);
        for (int i = 0; i < count; i++)
        {
            // lm-eval draws nothing when num_fewshot is 0.
            int[] shots = numFewshot > 0 ? random.Sample(train.Count, numFewshot) : [];
            var prompt = new System.Text.StringBuilder();
            foreach (int j in shots) prompt.Append(DocToText(train[j])).Append(' ').Append(train[j].Answer).Append("\n\n");
            prompts.Add((prompt.Append(DocToText(test[i])).ToString(), shots));
        }
        return prompts;
    }

    public static Gsm8kResult Run(CausalLanguageModel model, ITextTokenizer tokenizer, string dataDirectory, Gsm8kOptions options,
        Action<int, int>? progress = null)
    {
        var test = Load(TestPath(dataDirectory));
        var train = Load(TrainPath(dataDirectory));
        int count = Math.Min(options.Limit ?? test.Count, test.Count);
        int contextBudget = model.Config.MaxPositions - options.MaxGenTokens;
        if (contextBudget < 1)
            throw new QllmException($"--max-gen-toks {options.MaxGenTokens} leaves no room for the context in the model's {model.Config.MaxPositions} positions.");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var generator = new TextGenerator(model, tokenizer);
        var generation = new GenerationOptions(options.MaxGenTokens, Temperature: 0f) { StopSequences = Until };
        var samples = new List<Gsm8kSample>(count);
        var prompts = Prompts(test, train, count, options.NumFewshot, options.FewshotSeed);
        for (int i = 0; i < count; i++)
        {
            int[] context = tokenizer.Encode(prompts[i].Prompt, addBos: false);
            int truncated = Math.Max(0, context.Length - contextBudget);
            var reply = generator.Generate(context[truncated..], generation);
            string strict = StrictMatch.Apply(reply.Completion), flexible = FlexibleExtract.Apply(reply.Completion);
            samples.Add(new Gsm8kSample(i, prompts[i].FewshotIndices, context.Length - truncated, truncated, reply.Completion, strict, flexible,
                Metric.Matches(strict, test[i].Answer), Metric.Matches(flexible, test[i].Answer), reply.StopReason));
            progress?.Invoke(i + 1, count);
        }
        return new Gsm8kResult(samples, clock.Elapsed.TotalSeconds);
    }
}
