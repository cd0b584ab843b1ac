namespace Qllm.Generation.Chat;

/// <summary>
/// ChatML, after the <c>chat_template</c> of teknium/OpenHermes-2.5-Mistral-7B (the form Qwen and others share): every
/// message is <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>, the generation prompt <c>&lt;|im_start|&gt;assistant\n</c>.
/// No BOS. A turn ends with &lt;|im_end|&gt;.
/// </summary>
public sealed class ChatMlTemplate : ChatTemplate
{
    private const string Start = "<|im_start|>", End = "<|im_end|>";

    public override string Name => "chatml";
    public override IReadOnlyList<string> SpecialTokens => [Start, End];
    public override IReadOnlyList<string> EndOfTurnTokens => [End];

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var text = new System.Text.StringBuilder();
        foreach (var message in messages) text.Append(Start).Append(message.Role).Append('\n').Append(message.Content).Append(End).Append('\n');
        if (addGenerationPrompt) text.Append(Start).Append(ChatMessage.Assistant).Append('\n');
        return text.ToString();
    }
}
