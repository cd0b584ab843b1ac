using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Qllm.Tokenizers;

/// <summary>
/// GPT-2 style byte-level BPE (vocab.json + merges.txt, or the same inside a ByteLevel tokenizer.json): added
/// tokens are split out, the rest is pre-tokenized with the GPT-2 regex (no prefix space), each piece's UTF-8
/// bytes are mapped to GPT-2's printable characters and merged by merge rank, lowest first, leftmost on ties.
/// OPT (RoBERTa vocabulary) prepends "&lt;/s&gt;" = 2 as its BOS, like Hugging Face's OPT tokenizer.
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITextTokenizer
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly string[] SpecialNames = ["<s>", "</s>", "<pad>", "<unk>", "<mask>", "<|endoftext|>"];
    private const int CacheLimit = 200_000;

    private readonly string[] _pieces;
    private readonly int[] _byteIds = new int[256];
    private readonly RankedMerges _merges;
    private readonly HashSet<int> _special;
    private readonly AddedTokenSplitter _splitter;
    private readonly Regex _preTokenizer;
    private readonly Dictionary<char, byte> _unicodeToByte = new(256);
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Lock _cacheLock = new();

    public int VocabSize => _pieces.Length;
    public int? BosId { get; }
    public int? EosId { get; }

    internal ByteLevelBpeTokenizer(Dictionary<string, int> vocab, IReadOnlyList<(string A, string B)> merges,
        IEnumerable<AddedToken> added, string pattern, int? bosId, int? eosId)
    {
        var addedList = added.ToList();
        foreach (var t in addedList) vocab.TryAdd(t.Content, t.Id);
        foreach (string name in SpecialNames)
            if (vocab.TryGetValue(name, out int id) && !addedList.Any(a => a.Content == name)) addedList.Add(new AddedToken(name, id));
        int size = vocab.Values.DefaultIfEmpty(-1).Max() + 1;
        _pieces = new string[size];
        Array.Fill(_pieces, "");
        foreach (var (piece, id) in vocab) _pieces[id] = piece;

        char[] table = ByteToUnicode();
        for (int b = 0; b < 256; b++)
        {
            _unicodeToByte[table[b]] = (byte)b;
            if (!vocab.TryGetValue(table[b].ToString(), out _byteIds[b]))
                throw new InvalidDataException($"the vocabulary lacks the byte-level token for byte 0x{b:X2}.");
        }
        _merges = new RankedMerges(merges, vocab);
        _special = [.. addedList.Where(a => a.Special).Select(a => a.Id)];
        _splitter = new AddedTokenSplitter(addedList);
        _preTokenizer = new Regex(pattern, RegexOptions.Compiled);
        BosId = bosId;
        EosId = eosId;
    }

    /// <summary>GPT-2's reversible byte → printable character table.</summary>
    internal static char[] ByteToUnicode()
    {
        var table = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return table;
    }

    /// <summary>Parses merges.txt: one "a b" per line, after an optional "#version" line.</summary>
    internal static List<(string A, string B)> ParseMerges(string mergesTxt)
    {
        var merges = new List<(string, string)>();
        int lineNo = 0;
        foreach (string raw in mergesTxt.Split('\n'))
        {
            lineNo++;
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || (lineNo == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            int sp = line.IndexOf(' ', 1);
            if (sp < 0 || sp == line.Length - 1) throw new InvalidDataException($"merges.txt line {lineNo} is not \"a b\".");
            merges.Add((line[..sp], line[(sp + 1)..]));
        }
        return merges;
    }

    /// <summary>
    /// Builds the tokenizer from vocab.json and merges.txt content. <paramref name="isOpt"/> null means detect:
    /// a RoBERTa vocabulary ("&lt;s&gt;" = 0, "&lt;/s&gt;" = 2) is OPT's.
    /// </summary>
    public static ByteLevelBpeTokenizer Create(byte[] vocabJson, byte[] mergesTxt, bool? isOpt)
    {
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(vocabJson)
            ?? throw new InvalidDataException("vocab.json is not a JSON object of token → id.");
        bool opt = isOpt ?? IsRobertaVocab(vocab);
        int? eos = vocab.TryGetValue("</s>", out int eosId) ? eosId : vocab.TryGetValue("<|endoftext|>", out int eot) ? eot : null;
        int? bos = opt ? vocab.GetValueOrDefault("</s>", 2) : null;
        return new ByteLevelBpeTokenizer(vocab, ParseMerges(Encoding.UTF8.GetString(mergesTxt)), [], Gpt2Pattern, bos, eos);
    }

    internal static bool IsRobertaVocab(IReadOnlyDictionary<string, int> vocab) =>
        vocab.TryGetValue("<s>", out int s) && s == 0 && vocab.TryGetValue("</s>", out int e) && e == 2;

    public int[] Encode(string text, bool addBos = true)
    {
        var ids = new List<int>(text.Length / 3 + 2);
        if (addBos && BosId is int bos) ids.Add(bos);
        foreach (var (segment, addedId) in _splitter.Split(text))
        {
            if (addedId is int a)
            {
                ids.Add(a);
                continue;
            }
            foreach (Match m in _preTokenizer.Matches(segment)) ids.AddRange(EncodeWord(m.Value));
        }
        return [.. ids];
    }

    private int[] EncodeWord(string word)
    {
        lock (_cacheLock)
            if (_cache.TryGetValue(word, out var hit)) return hit;
        var ids = new List<int>(word.Length * 2);
        foreach (byte b in Encoding.UTF8.GetBytes(word)) ids.Add(_byteIds[b]);
        BpeMerger.Merge(ids, 0, _merges.TryMerge);
        int[] result = [.. ids];
        lock (_cacheLock)
        {
            if (_cache.Count >= CacheLimit) _cache.Clear();
            _cache[word] = result;
        }
        return result;
    }


    /// <summary>Special tokens (&lt;s&gt;, &lt;/s&gt;, &lt;pad&gt;, &lt;|endoftext|&gt;, special added tokens) are left out.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        Span<byte> buf = stackalloc byte[4];
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_pieces.Length || _special.Contains(id) || id == BosId || id == EosId) continue;
            foreach (char c in _pieces[id])
            {
                if (_unicodeToByte.TryGetValue(c, out byte b)) bytes.Add(b);
                else bytes.AddRange(buf[..Encoding.UTF8.GetBytes([c], buf)]);
            }
        }
        return Utf8Bytes.DecodeDroppingIncompleteTail(bytes);
    }
}
