namespace Qllm.Tokenizers;

/// <summary>A token matched verbatim in the input before normalization (Hugging Face "added tokens").</summary>
internal sealed record AddedToken(string Content, int Id, bool Special = true, bool LStrip = false, bool RStrip = false);

/// <summary>Splits text around added tokens: the earliest occurrence wins, the longest token on equal positions.</summary>
internal sealed class AddedTokenSplitter
{
    private readonly AddedToken[] _tokens;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens) =>
        _tokens = [.. tokens.Where(t => t.Content.Length > 0).OrderByDescending(t => t.Content.Length)];

    public IEnumerable<(string Text, int? AddedId)> Split(string text)
    {
        if (_tokens.Length == 0)
        {
            if (text.Length > 0) yield return (text, null);
            yield break;
        }
        var next = new int[_tokens.Length];
        for (int i = 0; i < _tokens.Length; i++) next[i] = text.IndexOf(_tokens[i].Content, StringComparison.Ordinal);
        int cursor = 0;
        bool stripLeading = false;
        while (true)
        {
            int best = -1;
            for (int i = 0; i < _tokens.Length; i++)
            {
                if (next[i] >= 0 && next[i] < cursor) next[i] = text.IndexOf(_tokens[i].Content, cursor, StringComparison.Ordinal);
                if (next[i] >= 0 && (best < 0 || next[i] < next[best])) best = i; // sorted longest first: ties keep the longest
            }
            int end = best < 0 ? text.Length : next[best];
            string piece = text[cursor..end];
            if (stripLeading) piece = piece.TrimStart();
            if (best >= 0 && _tokens[best].LStrip) piece = piece.TrimEnd();
            if (piece.Length > 0) yield return (piece, null);
            if (best < 0) yield break;
            yield return (_tokens[best].Content, _tokens[best].Id);
            stripLeading = _tokens[best].RStrip;
            cursor = end + _tokens[best].Content.Length;
        }
    }
}
