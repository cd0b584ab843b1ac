using Qllm.Common;
using Qllm.Models;
using Qllm.Tokenizers;

namespace Qllm.Generation;

/// <summary>Options of one generation: how many new tokens, how to pick them, and where to stop.</summary>
public sealed record GenerationOptions(int MaxNewTokens = 256, float Temperature = 1f, float TopP = 0.9f, ulong Seed = 42)
{
    /// <summary>Text stop sequences (lm-eval's <c>until</c>): the completion ends before the earliest one, which is trimmed.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>Token ids that end generation besides EOS/BOS, e.g. a chat template's end-of-turn token; they are not part of the text.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
}

/// <summary>What a generation produced, with its timing. <see cref="Completion"/> is the new text alone; <see cref="Text"/> the prompt's text followed by it.</summary>
public sealed record GenerationResult(string PromptText, string Completion, int[] PromptTokens, int[] NewTokens, string StopReason, double PrefillSeconds, double DecodeSeconds)
{
    public string Text => PromptText + Completion;
    public double DecodeTokensPerSecond => NewTokens.Length > 1 ? (NewTokens.Length - 1) / DecodeSeconds : 0;
}

/// <summary>
/// Autoregressive generation: prefill the prompt into a KV cache, then one token at a time, streaming
/// the decoded text. Stops at the token budget, the model's maximum positions, an end token
/// (EOS, BOS as llama2.c's run.c does, or a caller's stop token), or a text stop sequence.
/// </summary>
public sealed class TextGenerator(CausalLanguageModel model, ITextTokenizer tokenizer)
{
    /// <summary>Encodes <paramref name="prompt"/> with BOS and continues it; the prompt's text is streamed first.</summary>
    public GenerationResult Generate(string prompt, GenerationOptions options, Action<string>? onText = null)
    {
        int[] promptTokens = tokenizer.Encode(prompt, addBos: true);
        if (promptTokens.Length == 0) throw new QllmException("the prompt encodes to no tokens and the tokenizer adds no BOS; give --prompt.");
        string promptText = tokenizer.Decode(promptTokens);
        if (promptText.Length > 0) onText?.Invoke(promptText);
        return Generate(promptTokens, options, onText);
    }

    /// <summary>Continues already-encoded tokens; only the new text is streamed.</summary>
    public GenerationResult Generate(int[] promptTokens, GenerationOptions options, Action<string>? onText = null)
    {
        if (promptTokens.Length == 0) throw new ArgumentException("the prompt has no tokens.", nameof(promptTokens));
        if (promptTokens.Length >= model.Config.MaxPositions)
            throw new QllmException($"the prompt has {promptTokens.Length} tokens; the model allows {model.Config.MaxPositions} positions.");
        int capacity = Math.Min(model.Config.MaxPositions, promptTokens.Length + options.MaxNewTokens);

        var stopTokens = new HashSet<int>(model.Config.EosTokenIds);
        if (tokenizer.EosId is int eos) stopTokens.Add(eos);
        if (tokenizer.BosId is int bos) stopTokens.Add(bos);
        stopTokens.UnionWith(options.StopTokenIds);

        var sampler = new Sampler(options.Temperature, options.TopP, options.Seed);
        var cache = model.CreateKvCache(1, capacity);
        var logits = new float[model.Config.VocabSize];
        var text = new CompletionText(tokenizer, promptTokens, new StopSequences(options.StopSequences), onText);
        string stopReason = "max tokens";

        var clock = System.Diagnostics.Stopwatch.StartNew();
        float[] last = model.ForwardHidden(promptTokens, 1, promptTokens.Length, cache);
        int d = model.Config.HeadInputDim;
        model.Logits(last.AsSpan((promptTokens.Length - 1) * d, d), logits, 1);
        double prefill = clock.Elapsed.TotalSeconds;
        clock.Restart();

        while (text.Generated.Count < options.MaxNewTokens)
        {
            int next = sampler.Sample(logits);
            if (stopTokens.Contains(next)) { stopReason = "end token"; break; }
            if (text.Append(next)) { stopReason = "stop sequence"; break; }
            if (cache.Length >= capacity)
            {
                if (text.Generated.Count < options.MaxNewTokens) stopReason = "context length";
                break;
            }
            float[] hidden = model.ForwardHidden([next], 1, 1, cache);
            model.Logits(hidden, logits, 1);
        }
        text.Flush();
        return new GenerationResult(text.PromptText, text.Completion, promptTokens, [.. text.Generated], stopReason, prefill, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The completion as text: the decoded prompt-plus-new-tokens minus the decoded prompt, so SentencePiece spaces and
    /// multi-byte characters come out right; cut at a stop sequence, and streamed without a possible stop string's start.
    /// </summary>
    private sealed class CompletionText(ITextTokenizer tokenizer, int[] prompt, StopSequences stops, Action<string>? onText)
    {
        private readonly List<int> _all = [.. prompt];
        private int _emitted;

        public string PromptText { get; } = tokenizer.Decode(prompt);
        public string Completion { get; private set; } = "";
        public List<int> Generated { get; } = [];

        /// <returns>Whether a stop sequence has appeared (the completion is then cut before it).</returns>
        public bool Append(int token)
        {
            Generated.Add(token);
            _all.Add(token);
            string full = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_all));
            Completion = full.StartsWith(PromptText, StringComparison.Ordinal)
                ? full[PromptText.Length..]
                : tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Generated));
            int cut = stops.FindCut(Completion);
            if (cut >= 0)
            {
                Completion = Completion[..cut];
                return true;
            }
            Emit(stops.SafeLength(Completion));
            return false;
        }

        public void Flush() => Emit(Completion.Length);

        private void Emit(int upTo)
        {
            if (upTo <= _emitted) return;
            onText?.Invoke(Completion[_emitted..upTo]);
            _emitted = upTo;
        }
    }
}
