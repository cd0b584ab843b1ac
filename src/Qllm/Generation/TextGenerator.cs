using Qllm.Common;
using Qllm.Models;
using Qllm.Tokenizers;

namespace Qllm.Generation;

/// <summary>Options of one generation: how many new tokens, and how to pick them.</summary>
public sealed record GenerationOptions(int MaxNewTokens = 256, float Temperature = 1f, float TopP = 0.9f, ulong Seed = 42);

/// <summary>What a generation produced, with its timing.</summary>
public sealed record GenerationResult(string Text, int[] PromptTokens, int[] NewTokens, string StopReason, double PrefillSeconds, double DecodeSeconds)
{
    public double DecodeTokensPerSecond => NewTokens.Length > 1 ? (NewTokens.Length - 1) / DecodeSeconds : 0;
}

/// <summary>
/// Autoregressive generation: prefill the prompt into a KV cache, then one token at a time, streaming
/// the decoded text. Stops at the token budget, the model's maximum positions, or an end token
/// (EOS, or BOS as llama2.c's run.c does).
/// </summary>
public sealed class TextGenerator(CausalLanguageModel model, ITextTokenizer tokenizer)
{
    public GenerationResult Generate(string prompt, GenerationOptions options, Action<string>? onText = null)
    {
        int[] promptTokens = tokenizer.Encode(prompt, addBos: true);
        if (promptTokens.Length == 0) throw new QllmException("the prompt encodes to no tokens and the tokenizer adds no BOS; give --prompt.");
        int capacity = Math.Min(model.Config.MaxPositions, promptTokens.Length + options.MaxNewTokens);
        if (promptTokens.Length >= model.Config.MaxPositions)
            throw new QllmException($"the prompt has {promptTokens.Length} tokens; the model allows {model.Config.MaxPositions} positions.");

        var stopTokens = new HashSet<int>(model.Config.EosTokenIds);
        if (tokenizer.EosId is int eos) stopTokens.Add(eos);
        if (tokenizer.BosId is int bos) stopTokens.Add(bos);

        var sampler = new Sampler(options.Temperature, options.TopP, options.Seed);
        var cache = model.CreateKvCache(1, capacity);
        var logits = new float[model.Config.VocabSize];
        var all = new List<int>(promptTokens);
        var generated = new List<int>();
        var text = new StreamingText(tokenizer, promptTokens, onText);
        string stopReason = "max tokens";

        var clock = System.Diagnostics.Stopwatch.StartNew();
        float[] last = model.ForwardHidden(promptTokens, 1, promptTokens.Length, cache);
        int d = model.Config.HeadInputDim;
        model.Logits(last.AsSpan((promptTokens.Length - 1) * d, d), logits, 1);
        double prefill = clock.Elapsed.TotalSeconds;
        clock.Restart();

        while (generated.Count < options.MaxNewTokens)
        {
            int next = sampler.Sample(logits);
            if (stopTokens.Contains(next)) { stopReason = "end token"; break; }
            generated.Add(next);
            all.Add(next);
            text.Append(all);
            if (cache.Length >= capacity)
            {
                if (generated.Count < options.MaxNewTokens) stopReason = "context length";
                break;
            }
            float[] hidden = model.ForwardHidden([next], 1, 1, cache);
            model.Logits(hidden, logits, 1);
        }
        return new GenerationResult(text.Text, promptTokens, [.. generated], stopReason, prefill, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Decodes the growing sequence and hands out only the new characters (SentencePiece spaces and multi-byte characters come out right).</summary>
    private sealed class StreamingText
    {
        private readonly ITextTokenizer _tokenizer;
        private readonly Action<string>? _onText;

        public StreamingText(ITextTokenizer tokenizer, int[] prompt, Action<string>? onText)
        {
            _tokenizer = tokenizer;
            _onText = onText;
            Text = tokenizer.Decode(prompt);
            if (Text.Length > 0) onText?.Invoke(Text);
        }

        public string Text { get; private set; }

        public void Append(List<int> all)
        {
            string now = _tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all));
            if (now.Length > Text.Length && now.StartsWith(Text, StringComparison.Ordinal)) _onText?.Invoke(now[Text.Length..]);
            Text = now;
        }
    }
}
