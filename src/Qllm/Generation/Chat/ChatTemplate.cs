namespace Qllm.Generation.Chat;

/// <summary>
/// A model's chat format, rendered in C# to the exact string that Hugging Face's <c>apply_chat_template(messages,
/// add_generation_prompt=..., tokenize=False)</c> produces from the model's Jinja template (each subclass cites its template).
/// </summary>
public abstract class ChatTemplate
{
    /// <summary>The name used by <c>--chat-template</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Strings that stand for one special token each (BOS, role headers, end of turn), never to be split by the tokenizer.</summary>
    public abstract IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>The special tokens that end the assistant's turn; generation stops on any of them.</summary>
    public abstract IReadOnlyList<string> EndOfTurnTokens { get; }

    /// <summary>The template's BOS and EOS strings, which a tokenizer that does not parse them as text maps to its BOS/EOS ids.</summary>
    public virtual string? BosToken => null;
    public virtual string? EosToken => null;

    /// <summary>Whether the rendered text still needs the tokenizer's BOS (true only when the template does not write it itself).</summary>
    public virtual bool PrependBos => false;

    /// <param name="addGenerationPrompt">End with the header that opens the assistant's reply.</param>
    public abstract string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);
}
