using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Tokenizers;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Tokenizers;

public class Llama2cTokenizerTests
{
    private static readonly Lazy<Llama2cTokenizer> Tokenizer = new(() => Llama2cTokenizer.Load(SharedModels.Stories260KTokenizer));

    public static TheoryData<int> GoldenCases()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Golden.Value["cases"]!.AsArray().Count; i++) data.Add(i);
        return data;
    }

    private static readonly Lazy<JsonObject> Golden = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "oracles", "llama2c_tokenizer_golden.json")))!.AsObject());

    /// <summary>Golden ids from tests/oracles/llama2c_tokenizer_oracle.py, a naive Python transcription of run.c's encode.</summary>
    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void MatchesTheNaiveRunCEncoder(int index)
    {
        var c = Golden.Value["cases"]!.AsArray()[index]!;
        int[] expected = c["ids"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        Assert.Equal(expected, Tokenizer.Value.Encode(c["text"]!.GetValue<string>()));
    }

    [Fact]
    public void TheFastMergerEqualsTheQuadraticLoopOnALongText()
    {
        // The priority-queue merger against run.c's rescan-everything loop, on 3,000 characters of WikiText-2.
        var tokenizer = Tokenizer.Value;
        string text = Qllm.Evaluation.PerplexityDatasets.Load("wikitext2", SharedData.Path("data")).Text.Substring(5000, 3000);
        Assert.Equal(NaiveEncode(tokenizer, text), tokenizer.Encode(text));
    }

    private static int[] NaiveEncode(Llama2cTokenizer tokenizer, string text)
    {
        // run.c: BOS, dummy prefix, code points with byte fallback, then the quadratic merge loop.
        var tokens = new List<int> { 1 };
        var vocab = Enumerable.Range(0, tokenizer.VocabSize).Select(i => tokenizer.Piece(i)).ToArray();
        var ids = new Dictionary<string, int>();
        for (int i = 0; i < vocab.Length; i++) ids.TryAdd(vocab[i], i);
        tokens.Add(ids[" "]);
        foreach (var rune in text.EnumerateRunes())
        {
            string s = rune.ToString();
            if (ids.TryGetValue(s, out int id)) tokens.Add(id);
            else foreach (byte b in System.Text.Encoding.UTF8.GetBytes(s)) tokens.Add(b + 3);
        }
        while (true)
        {
            float best = float.NegativeInfinity; int bestId = -1, bestIndex = -1;
            for (int i = 0; i < tokens.Count - 1; i++)
                if (ids.TryGetValue(vocab[tokens[i]] + vocab[tokens[i + 1]], out int merged) && tokenizer.Score(merged) > best)
                    (best, bestId, bestIndex) = (tokenizer.Score(merged), merged, i);
            if (bestIndex < 0) break;
            tokens[bestIndex] = bestId;
            tokens.RemoveAt(bestIndex + 1);
        }
        return [.. tokens];
    }

    [Fact]
    public void EncodingAddsBosAndTheDummyPrefixOnlyForNonEmptyText()
    {
        Assert.Equal([1], Tokenizer.Value.Encode(""));
        Assert.Empty(Tokenizer.Value.Encode("", addBos: false));
        Assert.NotEqual(1, Tokenizer.Value.Encode("Hi", addBos: false)[0]);
    }

    [Theory]
    [InlineData("Once upon a time, there was a little girl named Lily.")]
    [InlineData("café 😀\n\nend")]
    [InlineData(" leading space")]
    public void DecodeInvertsEncode(string text)
    {
        // The dummy-prefix space is stripped from the first piece, so decoding gives back the text exactly.
        Assert.Equal(text, Tokenizer.Value.Decode(Tokenizer.Value.Encode(text)));
    }

    [Fact]
    public void UnknownCharactersFallBackToBytes()
    {
        // "😀" is not in the 512-token vocabulary: its four UTF-8 bytes F0 9F 98 80 become ids byte + 3.
        int[] ids = Tokenizer.Value.Encode("😀", addBos: false);
        Assert.Equal([0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3], ids[^4..]);
    }

    [Fact]
    public void AnIncompleteCharacterAtTheEndIsHeldBack()
    {
        int[] ids = Tokenizer.Value.Encode("a😀", addBos: false);
        Assert.Equal("a", Tokenizer.Value.Decode(ids[..^2]));    // only two of the emoji's four bytes so far
        Assert.Equal("a😀", Tokenizer.Value.Decode(ids));
    }

    [Fact]
    public void ATruncatedFileIsNamed()
    {
        using var folder = new TempFolder();
        string path = folder.File("tok-cut.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(SharedModels.Stories260KTokenizer)[..1001]);
        var e = Assert.Throws<ModelFormatException>(() => Llama2cTokenizer.Load(path));
        Assert.Contains("tok-cut.bin", e.Message);
    }
}
