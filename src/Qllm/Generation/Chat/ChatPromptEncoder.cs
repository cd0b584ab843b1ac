using Qllm.Common;
using Qllm.Tokenizers;

namespace Qllm.Generation.Chat;

/// <summary>
/// Tokenizes a rendered conversation as Hugging Face does with <c>apply_chat_template(tokenize=True)</c>: no BOS is added
/// unless the template asks for it, and the template's special-token strings become their single ids. A tokenizer that
/// reads them as special tokens itself (tiktoken, tokenizer.json added tokens, with their lstrip/rstrip rules) encodes the
/// whole text; for one that does not (a SentencePiece .model reads "&lt;s&gt;" as text) the text is split around them and
/// they are mapped to BOS/EOS. Also gives the ids of the end-of-turn tokens.
/// </summary>
public sealed class ChatPromptEncoder
{
    private readonly ITextTokenizer _tokenizer;
    private readonly ChatTemplate _template;
    private readonly Dictionary<string, int> _specialIds = new(StringComparer.Ordinal);
    private bool _tokenizerReadsSpecials;

    public ChatPromptEncoder(ChatTemplate template, ITextTokenizer tokenizer)
    {
        _template = template;
        _tokenizer = tokenizer;
        _tokenizerReadsSpecials = true;
        foreach (string special in template.SpecialTokens.Concat(template.EndOfTurnTokens).Distinct())
            _specialIds[special] = SpecialId(special);
        EndOfTurnIds = [.. template.EndOfTurnTokens.Select(t => _specialIds[t])];
    }

    public IReadOnlyList<int> EndOfTurnIds { get; }

    public int[] Encode(IReadOnlyList<ChatMessage> messages) => EncodeRendered(_template.Render(messages, addGenerationPrompt: true));

    public int[] EncodeRendered(string text)
    {
        var ids = new List<int>();
        if (_template.PrependBos && _tokenizer.BosId is int bos) ids.Add(bos);
        if (_tokenizerReadsSpecials)
        {
            ids.AddRange(_tokenizer.Encode(text, addBos: false));
            return [.. ids];
        }
        int cursor = 0;
        while (cursor < text.Length)
        {
            var (at, special) = NextSpecial(text, cursor);
            if (at > cursor) ids.AddRange(_tokenizer.Encode(text[cursor..at], addBos: false));
            if (special is null) break;
            ids.Add(_specialIds[special]);
            cursor = at + special.Length;
        }
        return [.. ids];
    }

    /// <summary>The earliest special string at or after <paramref name="from"/>, the longest on a tie; (text length, null) when none.</summary>
    private (int At, string? Special) NextSpecial(string text, int from)
    {
        (int At, string? Special) best = (text.Length, null);
        foreach (string special in _specialIds.Keys)
        {
            int at = text.IndexOf(special, from, StringComparison.Ordinal);
            if (at >= 0 && (at < best.At || (at == best.At && special.Length > best.Special!.Length))) best = (at, special);
        }
        return best;
    }

    /// <summary>The tokenizer's one id for a special string: encoded alone to a single id, else its BOS/EOS id when the string is the template's BOS/EOS (SentencePiece reads "&lt;s&gt;" as text).</summary>
    private int SpecialId(string special)
    {
        int[] ids = _tokenizer.Encode(special, addBos: false);
        if (ids.Length == 1) return ids[0];
        _tokenizerReadsSpecials = false;
        if (special == _template.BosToken && _tokenizer.BosId is int bos) return bos;
        if (special == _template.EosToken && _tokenizer.EosId is int eos) return eos;
        throw new QllmException($"--chat-template {_template.Name}: the tokenizer has no single token for '{special}' ({ids.Length} tokens); the model was not trained with this template — pass another --chat-template (or none).");
    }
}
