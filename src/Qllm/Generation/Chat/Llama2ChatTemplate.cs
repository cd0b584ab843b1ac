using Qllm.Common;

namespace Qllm.Generation.Chat;

/// <summary>
/// LLaMA-2 chat, after the <c>chat_template</c> of meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json: an optional
/// leading system message is folded into the first user turn as <c>&lt;&lt;SYS&gt;&gt;\n…\n&lt;&lt;/SYS&gt;&gt;\n\n</c>; each user
/// turn is <c>bos [INST] content.strip() [/INST]</c>, each assistant turn <c>" " content.strip() " " eos</c>. Roles must
/// alternate user/assistant. The template has no generation prompt: the text already ends in <c>[/INST]</c>.
/// </summary>
public sealed class Llama2ChatTemplate(string bosToken = "<s>", string eosToken = "</s>") : ChatTemplate
{
    public override string Name => "llama2";
    public override IReadOnlyList<string> SpecialTokens => [bosToken, eosToken];
    public override IReadOnlyList<string> EndOfTurnTokens => [eosToken];
    public override string BosToken => bosToken;
    public override string EosToken => eosToken;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        string? system = messages.Count > 0 && messages[0].Role == ChatMessage.System ? messages[0].Content : null;
        var turns = system is null ? messages : messages.Skip(1).ToList();
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < turns.Count; i++)
        {
            var message = turns[i];
            if ((message.Role == ChatMessage.User) != (i % 2 == 0))
                throw new QllmException("chat: conversation roles must alternate user/assistant/user/assistant/... (the llama2 template's rule).");
            string content = i == 0 && system is not null ? $"<<SYS>>\n{system}\n<</SYS>>\n\n{message.Content}" : message.Content;
            if (message.Role == ChatMessage.User) text.Append(bosToken).Append("[INST] ").Append(content.Trim()).Append(" [/INST]");
            else if (message.Role == ChatMessage.Assistant) text.Append(' ').Append(content.Trim()).Append(' ').Append(eosToken);
        }
        return text.ToString();
    }
}
