using Qllm.Common;
using Qllm.Models;
using Qllm.Tokenizers;

namespace Qllm.Generation.Chat;

/// <summary>
/// A conversation with a model: each user turn re-renders the whole conversation with the chat template, generates the
/// assistant's reply until an end-of-turn token, and keeps the reply in the history. When the conversation no longer
/// fits the model's positions, the oldest exchanges (never the system message) are forgotten.
/// </summary>
public sealed class ChatSession
{
    private readonly CausalLanguageModel _model;
    private readonly TextGenerator _generator;
    private readonly ChatPromptEncoder _encoder;
    private readonly List<ChatMessage> _messages = [];
    private readonly string? _system;

    public ChatSession(CausalLanguageModel model, ITextTokenizer tokenizer, ChatTemplate template, string? system)
    {
        _model = model;
        _generator = new TextGenerator(model, tokenizer);
        _encoder = new ChatPromptEncoder(template, tokenizer);
        _system = system;
        Reset();
    }

    public IReadOnlyList<ChatMessage> Messages => _messages;

    public void Reset()
    {
        _messages.Clear();
        if (!string.IsNullOrEmpty(_system)) _messages.Add(new ChatMessage(ChatMessage.System, _system));
    }

    /// <summary>Adds the user's message, streams the reply through <paramref name="onText"/>, and records it.</summary>
    public GenerationResult Reply(string user, GenerationOptions options, Action<string>? onText = null)
    {
        _messages.Add(new ChatMessage(ChatMessage.User, user));
        int[] prompt = EncodeFitting();
        var generation = _generator.Generate(prompt, options with { StopTokenIds = [.. options.StopTokenIds, .. _encoder.EndOfTurnIds] }, onText);
        _messages.Add(new ChatMessage(ChatMessage.Assistant, generation.Completion));
        return generation;
    }

    /// <summary>The conversation's tokens, after forgetting the oldest user/assistant exchanges until at least one new token fits.</summary>
    private int[] EncodeFitting()
    {
        int first = _system is { Length: > 0 } ? 1 : 0;
        while (true)
        {
            int[] tokens = _encoder.Encode(_messages);
            if (tokens.Length < _model.Config.MaxPositions) return tokens;
            if (_messages.Count - first <= 1)
            {
                _messages.RemoveAt(_messages.Count - 1);
                throw new QllmException($"the message needs {tokens.Length} tokens with the chat template; the model allows {_model.Config.MaxPositions} positions.");
            }
            _messages.RemoveRange(first, Math.Min(2, _messages.Count - first - 1));
        }
    }
}
