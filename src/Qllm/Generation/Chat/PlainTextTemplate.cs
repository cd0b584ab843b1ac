namespace Qllm.Generation.Chat;

/// <summary>
/// <c>--chat-template none</c>, for base models without a chat format (stories260K): the messages' texts joined by
/// newlines, after the tokenizer's BOS, which the model simply continues. The turn ends at EOS.
/// </summary>
public sealed class PlainTextTemplate : ChatTemplate
{
    public override string Name => "none";
    public override IReadOnlyList<string> SpecialTokens => [];
    public override IReadOnlyList<string> EndOfTurnTokens => [];
    public override bool PrependBos => true;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        string.Join("\n", messages.Select(m => m.Content));
}
