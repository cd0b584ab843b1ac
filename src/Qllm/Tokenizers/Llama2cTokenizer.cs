using System.Text;
using Qllm.Common;

namespace Qllm.Tokenizers;

/// <summary>
/// karpathy/llama2.c's <c>tokenizer.bin</c>: int32 max_token_length, then for each token a float32 score,
/// an int32 byte length and the UTF-8 bytes. Ids 0, 1, 2 are &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, and 3..258 are the
/// byte-fallback tokens &lt;0x00&gt;..&lt;0xFF&gt;. Encoding follows run.c's encode(text, bos=1, eos=0): BOS, a
/// dummy-prefix " ", code points (bytes + 3 when a code point is not in the vocabulary), then merges of the
/// best-scoring adjacent pair, leftmost on ties. No library reads this format, so it is implemented here.
/// </summary>
public sealed class Llama2cTokenizer : ITextTokenizer
{
    private const int ByteOffset = 3;
    private readonly string[] _pieces;
    private readonly byte[][] _pieceBytes;
    private readonly float[] _scores;
    private readonly Dictionary<string, int> _ids;

    public int VocabSize => _pieces.Length;
    public int? BosId => 1;
    public int? EosId => 2;

    private Llama2cTokenizer(string[] pieces, byte[][] pieceBytes, float[] scores)
    {
        _pieces = pieces;
        _pieceBytes = pieceBytes;
        _scores = scores;
        _ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        for (int i = 0; i < pieces.Length; i++) _ids.TryAdd(pieces[i], i); // run.c's bsearch finds one of duplicates; the first is as good
    }

    public static Llama2cTokenizer Load(string path, int? vocabSize = null)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        byte[] data = File.ReadAllBytes(path);
        var pieces = new List<string>();
        var bytes = new List<byte[]>();
        var scores = new List<float>();
        int offset = 4;
        if (data.Length < 4) throw new ModelFormatException(path, "too short for a llama2.c tokenizer header");
        while (offset < data.Length && (vocabSize is null || pieces.Count < vocabSize))
        {
            if (offset + 8 > data.Length) throw new ModelFormatException(path, $"truncated at token {pieces.Count}");
            float score = BitConverter.ToSingle(data, offset);
            int length = BitConverter.ToInt32(data, offset + 4);
            offset += 8;
            if (length < 0 || offset + length > data.Length) throw new ModelFormatException(path, $"truncated at token {pieces.Count} (length {length})");
            byte[] piece = data.AsSpan(offset, length).ToArray();
            offset += length;
            pieces.Add(Encoding.UTF8.GetString(piece));
            bytes.Add(piece);
            scores.Add(score);
        }
        if (pieces.Count < ByteOffset + 256) throw new ModelFormatException(path, $"holds {pieces.Count} tokens; a llama2.c tokenizer has at least 259 (3 specials and 256 bytes)");
        if (vocabSize is int expected && pieces.Count != expected) throw new ModelFormatException(path, $"holds {pieces.Count} tokens, expected {expected}");
        return new Llama2cTokenizer([.. pieces], [.. bytes], [.. scores]);
    }

    /// <summary>The piece of a token id as text, and its merge score.</summary>
    public string Piece(int id) => _pieces[id];
    public float Score(int id) => _scores[id];

    public int[] Encode(string text, bool addBos = true)
    {
        var ids = new List<int>(text.Length + 2);
        if (addBos) ids.Add(1);
        if (text.Length > 0 && _ids.TryGetValue(" ", out int space)) ids.Add(space); // run.c's dummy prefix
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < text.Length;)
        {
            int length = char.IsSurrogatePair(text, i) ? 2 : 1;
            string codePoint = text.Substring(i, length);
            i += length;
            if (_ids.TryGetValue(codePoint, out int id)) { ids.Add(id); continue; }
            int count = Encoding.UTF8.GetBytes(codePoint, utf8);
            for (int b = 0; b < count; b++) ids.Add(utf8[b] + ByteOffset);
        }
        return [.. PairMerger.Merge(ids, TryMerge)];
    }

    private (bool, int, float) TryMerge(int left, int right) =>
        _ids.TryGetValue(_pieces[left] + _pieces[right], out int merged) ? (true, merged, _scores[merged]) : (false, 0, 0f);

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>();
        bool first = true;
        foreach (int id in ids)
        {
            if (id == 1 || id == 2) continue;
            if ((uint)id >= (uint)_pieces.Length) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary of {_pieces.Length}.");
            if (id >= ByteOffset && id < ByteOffset + 256) bytes.Add((byte)(id - ByteOffset));
            else
            {
                var piece = _pieceBytes[id].AsSpan();
                if (first && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..]; // run.c strips it after BOS
                bytes.AddRange(piece);
            }
            first = false;
        }
        return Utf8Text.DecodeComplete(bytes);
    }
}
