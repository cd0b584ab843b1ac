using System.Text;
using Qllm.Common;

namespace Qllm.Tokenizers;

/// <summary>
/// The llama2.c <c>tokenizer.bin</c> format (int32 max_token_length, then per token: float32 score, int32 byte
/// length, UTF-8 bytes), encoded exactly like <c>run.c</c>'s <c>encode(text, bos=1, eos=0)</c>.
/// Ids 0, 1, 2 are &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;; ids 3..258 are the byte tokens &lt;0x00&gt;..&lt;0xFF&gt;.
/// </summary>
public sealed class Llama2cTokenizer : ITextTokenizer
{
    private const int ByteOffset = 3;
    private const float NoScore = -1e10f; // run.c's initial best_score: a merge must beat it

    // Pieces are kept as Latin-1 strings of their raw bytes, so concatenation and lookup are byte-exact as in C.
    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly Dictionary<string, int> _lookup;
    private readonly Dictionary<long, int> _pairCache = new();
    private readonly Lock _pairLock = new();

    public int VocabSize => _pieces.Length;
    public int? BosId => 1;
    public int? EosId => 2;
    public int MaxTokenLength { get; }

    private Llama2cTokenizer(string[] pieces, float[] scores, int maxTokenLength)
    {
        _pieces = pieces;
        _scores = scores;
        MaxTokenLength = maxTokenLength;
        _lookup = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        for (int i = 0; i < pieces.Length; i++) _lookup.TryAdd(pieces[i], i);
    }

    public static Llama2cTokenizer Load(string path)
    {
        byte[] data;
        try { data = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot read llama2.c tokenizer: {e.Message}", inner: e);
        }
        return Parse(data, path);
    }

    public static Llama2cTokenizer Parse(ReadOnlySpan<byte> data, string path)
    {
        if (data.Length < 4) throw new ModelFormatException(path, "llama2.c tokenizer is truncated: no max_token_length header.");
        int maxLen = BitConverter.ToInt32(data[..4]);
        if (maxLen <= 0) throw new ModelFormatException(path, $"llama2.c tokenizer has an invalid max_token_length {maxLen}.");
        var pieces = new List<string>();
        var scores = new List<float>();
        int pos = 4;
        while (pos < data.Length)
        {
            if (data.Length - pos < 8)
                throw new ModelFormatException(path, $"llama2.c tokenizer is truncated inside the header of token {pieces.Count} (byte offset {pos}).");
            float score = BitConverter.ToSingle(data.Slice(pos, 4));
            int len = BitConverter.ToInt32(data.Slice(pos + 4, 4));
            pos += 8;
            if (len < 0 || len > data.Length - pos)
                throw new ModelFormatException(path, $"llama2.c tokenizer is truncated or corrupt: token {pieces.Count} claims {len} bytes, {data.Length - pos} remain.");
            pieces.Add(Encoding.Latin1.GetString(data.Slice(pos, len)));
            scores.Add(score);
            pos += len;
        }
        if (pieces.Count < ByteOffset + 256)
            throw new ModelFormatException(path, $"llama2.c tokenizer has {pieces.Count} tokens; at least 259 (3 special + 256 byte tokens) are required.");
        return new Llama2cTokenizer([.. pieces], [.. scores], maxLen);
    }

    /// <summary>The raw bytes of a token's piece.</summary>
    public byte[] PieceBytes(int id) => Encoding.Latin1.GetBytes(_pieces[id]);

    public float Score(int id) => _scores[id];

    public int[] Encode(string text, bool addBos = true)
    {
        var ids = InitialSymbols(text, addBos);
        BpeMerger.Merge(ids, 0, TryMergePair);
        return [.. ids];
    }

    /// <summary>The symbols before any merge: BOS, dummy prefix, then code points (or their byte tokens).</summary>
    internal List<int> InitialSymbols(string text, bool addBos)
    {
        var ids = new List<int>(text.Length + 2);
        if (addBos) ids.Add(1);
        if (text.Length == 0) return ids;
        if (_lookup.TryGetValue(" ", out int space)) ids.Add(space);
        Span<byte> buf = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            int n = rune.EncodeToUtf8(buf);
            if (_lookup.TryGetValue(Encoding.Latin1.GetString(buf[..n]), out int id)) ids.Add(id);
            else
                for (int i = 0; i < n; i++) ids.Add(buf[i] + ByteOffset);
        }
        return ids;
    }

    /// <summary>run.c's pair test: the concatenated piece exists and scores above -1e10.</summary>
    internal bool TryMergePair(int left, int right, out int merged, out float score)
    {
        long key = ((long)left << 32) | (uint)right;
        bool cached;
        lock (_pairLock) cached = _pairCache.TryGetValue(key, out merged);
        if (!cached)
        {
            merged = _lookup.TryGetValue(_pieces[left] + _pieces[right], out int id) && _scores[id] > NoScore ? id : -1;
            lock (_pairLock) _pairCache[key] = merged;
        }
        if (merged < 0)
        {
            score = 0;
            return false;
        }
        score = _scores[merged];
        return true;
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        bool first = true;
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_pieces.Length || id == 1 || id == 2) continue;
            string piece = _pieces[id];
            if (Utf8Bytes.TryParseBytePiece(piece, out byte b))
            {
                bytes.Add(b);
                first = false;
                continue;
            }
            int skip = first && piece.Length > 0 && piece[0] == ' ' ? 1 : 0;
            first = false;
            for (int i = skip; i < piece.Length; i++) bytes.Add((byte)piece[i]);
        }
        return Utf8Bytes.DecodeDroppingIncompleteTail(bytes);
    }
}
