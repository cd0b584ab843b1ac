using System.Text;
using System.Text.Json;
using Qllm.Common;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Tokenizers;

public class Llama2cTokenizerTests
{
    private static readonly Lazy<Llama2cTokenizer> Tok = new(() => Llama2cTokenizer.Load(TokPath));

    private static string TokPath => SharedData.Path("models", "stories260K", "tok512.bin");

    public static readonly TheoryData<string> Samples = new()
    {
        "Hello world",
        "Once upon a time, there was a little girl named Lily.\nShe liked to play.\n\nThe end.",
        "  leading spaces and trailing  ",
        "café é è ü ß",
        "emoji 😀🎉 and 中文字符",
        "aaaaaaa bbbbbbbbbbbbbbbbb aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "\n\n\n",
        "tabs\tand\r\nCRLF",
        "x",
    };

    [Fact]
    public void LoadsTok512()
    {
        var tok = Tok.Value;
        Assert.Equal(512, tok.VocabSize);
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        Assert.Equal("<0x41>", Encoding.UTF8.GetString(tok.PieceBytes(0x41 + 3)));
    }

    [Fact]
    public void PrependsBosAndDummyPrefix()
    {
        var tok = Tok.Value;
        int[] ids = tok.Encode("a");
        Assert.Equal(1, ids[0]);
        int[] noBos = tok.Encode("a", addBos: false);
        Assert.Equal(ids[1..], noBos);
        // The dummy prefix " " is merged with "a" or stays in front of it.
        Assert.StartsWith(" ", Encoding.UTF8.GetString(tok.PieceBytes(noBos[0])));
        Assert.Equal([1], tok.Encode(""));
        Assert.Empty(tok.Encode("", addBos: false));
    }

    [Fact]
    public void FallsBackToBytesForUnknownCodePoints()
    {
        var tok = Tok.Value;
        int[] ids = tok.Encode("😀", addBos: false);
        byte[] utf8 = Encoding.UTF8.GetBytes("😀");
        Assert.Equal(utf8.Select(b => b + 3), ids.Where(id => id >= 3 && id < 259));
        Assert.Equal("😀", tok.Decode(ids));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void FastMergeMatchesNaiveRunCLoop(string text)
    {
        var tok = Tok.Value;
        Assert.Equal(NaiveEncode(tok, text), tok.Encode(text));
    }

    [Fact]
    public void FastMergeMatchesNaiveOnRandomStrings()
    {
        var tok = Tok.Value;
        var rng = new Random(1234);
        string alphabet = "aaabbcde  \n\tthe é😀.,";
        for (int trial = 0; trial < 200; trial++)
        {
            var sb = new StringBuilder();
            int len = rng.Next(0, 60);
            var runes = alphabet.EnumerateRunes().ToArray();
            for (int i = 0; i < len; i++) sb.Append(runes[rng.Next(runes.Length)].ToString());
            string text = sb.ToString();
            Assert.Equal(NaiveEncode(tok, text), tok.Encode(text));
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void RoundTrips(string text)
    {
        var tok = Tok.Value;
        Assert.Equal(text, tok.Decode(tok.Encode(text, addBos: false)));
        Assert.Equal(text, tok.Decode(tok.Encode(text, addBos: true)));
    }

    [Fact]
    public void DecodeStripsLeadingSpaceOfFirstPieceOnly()
    {
        var tok = Tok.Value;
        int[] hello = tok.Encode("Hello", addBos: false);
        Assert.Equal("Hello", tok.Decode(hello));
        Assert.Equal("Hello Hello", tok.Decode([.. hello, .. hello]));
        Assert.Equal("Hello", tok.Decode([1, .. hello, 2]));
    }

    [Fact]
    public void DecodeDropsIncompleteUtf8AtTheEnd()
    {
        var tok = Tok.Value;
        int[] ids = tok.Encode("ok😀", addBos: false);
        Assert.Equal("ok😀", tok.Decode(ids));
        Assert.Equal("ok", tok.Decode(ids[..^1]));
        Assert.Equal("ok", tok.Decode(ids[..^2]));
        Assert.Equal("ok", tok.Decode(ids[..^3]));
    }

    [Fact]
    public void EncodesWholeWikiText2TestSetAndRoundTrips()
    {
        var rows = File.ReadLines(SharedData.Path("data", "wikitext2", "test.jsonl"))
            .Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!);
        string text = string.Join("\n\n", rows);
        var tok = Tok.Value;
        int[] ids = tok.Encode(text);
        Assert.True(ids.Length > 100_000);
        Assert.Equal(1, ids[0]);
        Assert.NotEqual(1, ids[1]);
        Assert.Equal(text, tok.Decode(ids));
    }

    [Fact]
    public void TruncatedFileIsModelFormatError()
    {
        string dir = Directory.CreateTempSubdirectory("qllm-tok-").FullName;
        try
        {
            byte[] full = File.ReadAllBytes(TokPath);
            string path = Path.Combine(dir, "tok512.bin");
            File.WriteAllBytes(path, full[..(full.Length / 2 + 3)]);
            var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(path));
            Assert.Equal(path, e.FilePath);
            Assert.Contains(path, e.Message);

            File.WriteAllBytes(path, full[..2]);
            Assert.Equal(path, Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(dir)).FilePath);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>llama2.c run.c encode(), literally: rescan all pairs, take the best score (strictly greater, so leftmost on ties).</summary>
    private static int[] NaiveEncode(Llama2cTokenizer tok, string text)
    {
        var pieces = new Dictionary<string, int>();
        for (int i = 0; i < tok.VocabSize; i++) pieces.TryAdd(Encoding.Latin1.GetString(tok.PieceBytes(i)), i);
        var tokens = new List<int> { 1 };
        if (text.Length > 0) tokens.Add(pieces[" "]);
        foreach (var rune in text.EnumerateRunes())
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(rune.ToString());
            if (pieces.TryGetValue(Encoding.Latin1.GetString(utf8), out int id)) tokens.Add(id);
            else tokens.AddRange(utf8.Select(b => b + 3));
        }
        while (true)
        {
            float bestScore = -1e10f;
            int bestId = -1, bestIdx = -1;
            for (int i = 0; i + 1 < tokens.Count; i++)
            {
                string merged = Encoding.Latin1.GetString(tok.PieceBytes(tokens[i])) + Encoding.Latin1.GetString(tok.PieceBytes(tokens[i + 1]));
                if (pieces.TryGetValue(merged, out int id) && tok.Score(id) > bestScore)
                {
                    bestScore = tok.Score(id);
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx < 0) break;
            tokens[bestIdx] = bestId;
            tokens.RemoveAt(bestIdx + 1);
        }
        return [.. tokens];
    }
}
