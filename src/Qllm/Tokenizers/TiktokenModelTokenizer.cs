using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Qllm.Tokenizers;

/// <summary>
/// A LLaMA-3 tiktoken <c>tokenizer.model</c> (lines "base64-token rank") via Microsoft.ML.Tokenizers'
/// TiktokenTokenizer with the LLaMA-3 pre-tokenizer regex and its 256 special tokens
/// (&lt;|begin_of_text|&gt; = first id after the ranks, and so on).
/// </summary>
public sealed class TiktokenModelTokenizer : ITextTokenizer
{
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const int SpecialCount = 256;

    private readonly TiktokenTokenizer _tokenizer;
    private readonly byte[][] _tokenBytes; // by rank; specials are not in here
    private readonly int _specialBase;

    public int VocabSize => _specialBase + SpecialCount;
    public int? BosId => _specialBase;
    public int? EosId => _specialBase + 1;

    private TiktokenModelTokenizer(TiktokenTokenizer tokenizer, byte[][] tokenBytes, int specialBase)
    {
        _tokenizer = tokenizer;
        _tokenBytes = tokenBytes;
        _specialBase = specialBase;
    }

    /// <summary>The LLaMA-3 special tokens, numbered from <paramref name="first"/> (128000 for LLaMA-3).</summary>
    public static Dictionary<string, int> Llama3SpecialTokens(int first)
    {
        var specials = new Dictionary<string, int>
        {
            ["<|begin_of_text|>"] = first,
            ["<|end_of_text|>"] = first + 1,
            ["<|start_header_id|>"] = first + 6,
            ["<|end_header_id|>"] = first + 7,
            ["<|eot_id|>"] = first + 9,
        };
        for (int i = 0; i <= 3; i++) specials[$"<|reserved_special_token_{i}|>"] = first + 2 + i;
        specials["<|reserved_special_token_4|>"] = first + 8;
        for (int i = 5; i < SpecialCount - 5; i++) specials[$"<|reserved_special_token_{i}|>"] = first + 5 + i;
        return specials;
    }

    /// <summary>Whether <paramref name="head"/> (the start of a file) looks like tiktoken text: "base64 int" lines.</summary>
    public static bool LooksLikeTiktoken(ReadOnlySpan<byte> head)
    {
        int end = head.IndexOf((byte)'\n');
        var line = end < 0 ? head : head[..end];
        if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
        int space = line.IndexOf((byte)' ');
        if (space <= 0 || space == line.Length - 1) return false;
        foreach (byte b in line[..space])
            if (!(char.IsAsciiLetterOrDigit((char)b) || b == '+' || b == '/' || b == '=')) return false;
        foreach (byte b in line[(space + 1)..])
            if (!char.IsAsciiDigit((char)b)) return false;
        return true;
    }

    public static TiktokenModelTokenizer Create(byte[] fileBytes)
    {
        var ranks = new List<(byte[] Bytes, int Rank)>();
        using (var reader = new StreamReader(new MemoryStream(fileBytes), Encoding.ASCII))
        {
            string? line;
            int lineNo = 0;
            while ((line = reader.ReadLine()) != null)
            {
                lineNo++;
                if (line.Length == 0) continue;
                int space = line.IndexOf(' ');
                if (space <= 0 || !int.TryParse(line.AsSpan(space + 1), out int rank) || rank < 0)
                    throw new InvalidDataException($"line {lineNo} is not \"base64 rank\".");
                ranks.Add((Convert.FromBase64String(line[..space]), rank));
            }
        }
        if (ranks.Count == 0) throw new InvalidDataException("no tokens.");
        int specialBase = ranks.Max(r => r.Rank) + 1;
        var tokenBytes = new byte[specialBase][];
        foreach (var (bytes, rank) in ranks) tokenBytes[rank] = bytes;
        for (int i = 0; i < tokenBytes.Length; i++) tokenBytes[i] ??= [];

        var specials = Llama3SpecialTokens(specialBase);
        var preTokenizer = new RegexPreTokenizer(new Regex(Llama3Pattern, RegexOptions.Compiled), specials);
        var tokenizer = TiktokenTokenizer.Create(new MemoryStream(fileBytes), preTokenizer, normalizer: null, specials, cacheSize: 8192);
        return new TiktokenModelTokenizer(tokenizer, tokenBytes, specialBase);
    }

    public int[] Encode(string text, bool addBos = true)
    {
        var ids = _tokenizer.EncodeToIds(text);
        if (!addBos) return [.. ids];
        var result = new int[ids.Count + 1];
        result[0] = _specialBase;
        for (int i = 0; i < ids.Count; i++) result[i + 1] = ids[i];
        return result;
    }

    /// <summary>Special tokens (BOS, EOS, headers, reserved) are left out.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
            if ((uint)id < (uint)_tokenBytes.Length) bytes.AddRange(_tokenBytes[id]);
        return Utf8Bytes.DecodeDroppingIncompleteTail(bytes);
    }
}
