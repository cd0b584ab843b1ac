namespace Qllm.Generation.Chat;

/// <summary>
/// LLaMA-3 instruct, after the <c>chat_template</c> of meta-llama/Meta-Llama-3-8B-Instruct's tokenizer_config.json: every
/// message is <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\n content|trim &lt;|eot_id|&gt;</c>, the first one preceded by
/// bos; the generation prompt is the assistant header. A turn ends with &lt;|eot_id|&gt; (or &lt;|end_of_text|&gt;).
/// </summary>
public sealed class Llama3ChatTemplate(string bosToken = "<|begin_of_text|>") : ChatTemplate
{
    private const string StartHeader = "<|start_header_id|>", EndHeader = "<|end_header_id|>", EndOfTurn = "<|eot_id|>", EndOfText = "<|end_of_text|>";

    public override string Name => "llama3";
    public override IReadOnlyList<string> SpecialTokens => [bosToken, StartHeader, EndHeader, EndOfTurn, EndOfText];
    public override IReadOnlyList<string> EndOfTurnTokens => [EndOfTurn, EndOfText];
    public override string BosToken => bosToken;
    public override string EosToken => EndOfText;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            if (i == 0) text.Append(bosToken);
            text.Append(StartHeader).Append(messages[i].Role).Append(EndHeader).Append("\n\n").Append(messages[i].Content.Trim()).Append(EndOfTurn);
        }
        if (addGenerationPrompt) text.Append(StartHeader).Append(ChatMessage.Assistant).Append(EndHeader).Append("\n\n");
        return text.ToString();
    }
}
