namespace Qllm.Generation.Chat;

/// <summary>
/// Phi-3, after the <c>chat_template</c> of microsoft/Phi-3-mini's tokenizer_config.json (../shared/models/tokenizers/phi-3-mini):
/// system, user and assistant messages are <c>&lt;|role|&gt;\ncontent&lt;|end|&gt;\n</c> (other roles are dropped); then the
/// generation prompt <c>&lt;|assistant|&gt;\n</c>, or eos without one. No BOS. A turn ends with &lt;|end|&gt; (or eos).
/// </summary>
public sealed class Phi3ChatTemplate(string eosToken = "<|endoftext|>") : ChatTemplate
{
    private const string End = "<|end|>";
    private static readonly string[] Roles = [ChatMessage.System, ChatMessage.User, ChatMessage.Assistant];

    public override string Name => "phi3";
    public override IReadOnlyList<string> SpecialTokens => ["<|system|>", "<|user|>", "<|assistant|>", End, eosToken];
    public override IReadOnlyList<string> EndOfTurnTokens => [End, eosToken];
    public override string EosToken => eosToken;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var text = new System.Text.StringBuilder();
        foreach (var message in messages.Where(m => Roles.Contains(m.Role)))
            text.Append("<|").Append(message.Role).Append("|>\n").Append(message.Content).Append(End).Append('\n');
        text.Append(addGenerationPrompt ? "<|assistant|>\n" : eosToken);
        return text.ToString();
    }
}
