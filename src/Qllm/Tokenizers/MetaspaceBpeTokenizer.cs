using System.Text;

namespace Qllm.Tokenizers;

/// <summary>
/// SentencePiece-style BPE from a Hugging Face tokenizer.json (LLaMA, Mistral, Phi-3): added tokens are split
/// out first, each remaining segment gets "▁" prepended and its spaces replaced by "▁", then code points
/// (with byte fallback to &lt;0xXX&gt;) are merged by merge rank, lowest first, leftmost on ties.
/// </summary>
public sealed class MetaspaceBpeTokenizer : ITextTokenizer
{
    private readonly string[] _pieces;
    private readonly Dictionary<string, int> _vocab;
    private readonly RankedMerges _merges;
    private readonly AddedTokenSplitter _splitter;
    private readonly HashSet<int> _specialIds;
    private readonly int? _unkId;
    private readonly bool _byteFallback;
    private readonly bool _fuseUnk;
    private readonly bool _prependAlways; // false: only the first segment of the text gets "▁" (prepend_scheme "first")
    private readonly bool _prepend;
    private readonly int[] _byteIds = new int[256];

    public int VocabSize => _pieces.Length;
    public int? BosId { get; }
    public int? EosId { get; }

    internal MetaspaceBpeTokenizer(Dictionary<string, int> vocab, IReadOnlyList<(string A, string B)> merges,
        IReadOnlyList<AddedToken> added, string? unkToken, bool byteFallback, bool fuseUnk, bool prepend, bool prependAlways,
        int? bosId, int? eosId)
    {
        _vocab = vocab;
        foreach (var t in added) _vocab.TryAdd(t.Content, t.Id);
        int size = _vocab.Values.DefaultIfEmpty(-1).Max() + 1;
        _pieces = new string[size];
        Array.Fill(_pieces, "");
        foreach (var (piece, id) in _vocab) _pieces[id] = piece;
        _merges = new RankedMerges(merges, _vocab);
        _splitter = new AddedTokenSplitter(added);
        _specialIds = [.. added.Where(t => t.Special).Select(t => t.Id)];
        _unkId = unkToken != null && _vocab.TryGetValue(unkToken, out int u) ? u : null;
        _byteFallback = byteFallback;
        _fuseUnk = fuseUnk;
        _prepend = prepend;
        _prependAlways = prependAlways;
        for (int b = 0; b < 256; b++) _byteIds[b] = _vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        BosId = bosId;
        EosId = eosId;
    }



    public int[] Encode(string text, bool addBos = true)
    {
        var ids = new List<int>(text.Length / 2 + 2);
        if (addBos && BosId is int bos) ids.Add(bos);
        bool firstSegment = true;
        foreach (var (segment, addedId) in _splitter.Split(text))
        {
            if (addedId is int a) ids.Add(a);
            else if (segment.Length > 0)
            {
                EncodeSegment(segment, firstSegment || _prependAlways, ids);
            }
            firstSegment = false;
        }
        return [.. ids];
    }

    private void EncodeSegment(string segment, bool prepend, List<int> ids)
    {
        string normalized = (prepend && _prepend ? "\u2581" : "") + segment.Replace(' ', '\u2581');
        int start = ids.Count;
        Span<byte> buf = stackalloc byte[4];
        bool lastUnk = false;
        foreach (var rune in normalized.EnumerateRunes())
        {
            if (_vocab.TryGetValue(rune.ToString(), out int id))
            {
                ids.Add(id);
                lastUnk = false;
                continue;
            }
            int n = rune.EncodeToUtf8(buf);
            bool allBytes = _byteFallback;
            for (int i = 0; i < n && allBytes; i++) allBytes = _byteIds[buf[i]] >= 0;
            if (allBytes)
            {
                for (int i = 0; i < n; i++) ids.Add(_byteIds[buf[i]]);
                lastUnk = false;
            }
            else if (_unkId is int unk)
            {
                if (!(_fuseUnk && lastUnk)) ids.Add(unk);
                lastUnk = true;
            }
        }
        BpeMerger.Merge(ids, start, _merges.TryMerge);
    }

    /// <summary>"▁" → space, byte fallback pieces → bytes, special tokens left out, dummy-prefix space of the first piece stripped.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        int bos = BosId ?? -1, eos = EosId ?? -1;
        return Utf8Bytes.DecodePieces(ids, _pieces, id => id == bos || id == eos || _specialIds.Contains(id), metaspace: true);
    }
}
