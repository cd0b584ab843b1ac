using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Tokenizers;

public class HfTokenizerTests
{
    private static string Tokenizers(params string[] parts) => SharedData.Path(["models", "tokenizers", .. parts]);

    private static readonly Lazy<ITextTokenizer> Llama2 = new(() => TokenizerLoader.Load(Tokenizers("llama2", "tokenizer.model")));
    private static readonly Lazy<ITextTokenizer> Llama3 = new(() => TokenizerLoader.Load(Tokenizers("llama3", "tokenizer.model")));
    private static readonly Lazy<ITextTokenizer> Gpt2 = new(() => TokenizerLoader.Load(Tokenizers("gpt2", "vocab.json")));
    private static readonly Lazy<ITextTokenizer> Gpt2Json = new(() => TokenizerLoader.Load(Tokenizers("gpt2", "tokenizer.json")));
    private static readonly Lazy<ITextTokenizer> Opt = new(() => TokenizerLoader.Load(Tokenizers("opt"), new TokenizerHints("opt", 2, 2)));
    private static readonly Lazy<ITextTokenizer> Phi3 = new(() => TokenizerLoader.Load(Tokenizers("phi-3-mini"), new TokenizerHints("llama", 1, 32000)));

    private static readonly string[] SampleTexts =
    [
        "Hello world",
        "Hello world!\n\nThe quick brown fox, it's 2024.",
        "  two leading spaces",
        "line one\nline two\n\n\nend\n",
        "café, naïve, 中文, emoji 😀",
        "tabs\tand trailing space ",
    ];

    public static readonly TheoryData<string> Samples = new(SampleTexts);

    [Fact]
    public void Llama2SentencePieceKnownIds()
    {
        var tok = Llama2.Value;
        Assert.IsType<SentencePieceModelTokenizer>(tok);
        Assert.Equal([1, 15043, 3186], tok.Encode("Hello world"));
        Assert.Equal([15043, 3186], tok.Encode("Hello world", addBos: false));
        Assert.Equal(32000, tok.VocabSize);
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        Assert.Equal("Hello world", tok.Decode([1, 15043, 3186, 2]));
    }

    [Fact]
    public void Llama3TiktokenKnownIds()
    {
        var tok = Llama3.Value;
        Assert.IsType<TiktokenModelTokenizer>(tok);
        Assert.Equal([128000, 9906, 1917, 0], tok.Encode("Hello world!"));
        Assert.Equal(128256, tok.VocabSize);
        Assert.Equal(128000, tok.BosId);
        Assert.Equal(128001, tok.EosId);
        Assert.Equal([9906, 128009, 1917], tok.Encode("Hello<|eot_id|> world", addBos: false));
        Assert.Equal([128006], tok.Encode("<|start_header_id|>", addBos: false));
        Assert.Equal([128010], tok.Encode("<|reserved_special_token_5|>", addBos: false));
        Assert.Equal([128255], tok.Encode("<|reserved_special_token_250|>", addBos: false));
        Assert.Equal("Hello world!", tok.Decode([128000, 9906, 1917, 0, 128001]));
    }

    [Fact]
    public void Gpt2KnownIds()
    {
        var tok = Gpt2.Value;
        Assert.IsType<ByteLevelBpeTokenizer>(tok);
        Assert.Equal([15496, 995, 0], tok.Encode("Hello world!"));
        Assert.Null(tok.BosId);
        Assert.Equal(50257, tok.VocabSize);
    }

    [Fact]
    public void Gpt2MatchesCodeGenTokenizerOnTextWithoutSpaceRuns()
    {
        // CodeGenTokenizer adds its own tokens for runs of spaces, so compare on text that has none.
        using var vocab = File.OpenRead(Tokenizers("gpt2", "vocab.json"));
        using var merges = File.OpenRead(Tokenizers("gpt2", "merges.txt"));
        var codegen = Microsoft.ML.Tokenizers.CodeGenTokenizer.Create(vocab, merges, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
        string text = string.Join("\n\n", File.ReadLines(SharedData.Path("data", "wikitext2", "test.jsonl")).Take(300)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!.Replace("  ", " ")));
        text += "\nIt's 12345 dollars; naïve café — “quoted” 😀\r\n\tend";
        Assert.Equal(codegen.EncodeToIds(text).ToArray(), Gpt2.Value.Encode(text));
    }

    [Fact]
    public void Gpt2SplitsEndOfTextToken()
    {
        Assert.Equal([15496, 50256, 995], Gpt2.Value.Encode("Hello<|endoftext|> world"));
        Assert.Equal("Hello world", Gpt2.Value.Decode([15496, 50256, 995]));
    }

    [Fact]
    public void ByteLevelTokenizerJsonWithSplitRegexPreTokenizer()
    {
        // LLaMA-3 / Qwen2 layout: Sequence [Split(regex), ByteLevel(use_regex = false)], BOS from the template.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Tokenizers("gpt2", "tokenizer.json")))!;
        json["pre_tokenizer"] = System.Text.Json.Nodes.JsonNode.Parse($$"""
            {"type": "Sequence", "pretokenizers": [
              {"type": "Split", "pattern": {"Regex": {{System.Text.Json.JsonSerializer.Serialize(ByteLevelBpeTokenizer.Gpt2Pattern)}}}, "behavior": "Isolated", "invert": false},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}
            """);
        json["post_processor"] = System.Text.Json.Nodes.JsonNode.Parse("""
            {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [], "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [50256], "tokens": ["<|endoftext|>"]}}}
            """);
        string dir = Directory.CreateTempSubdirectory("qllm-tok-").FullName;
        try
        {
            string path = Path.Combine(dir, "tokenizer.json");
            File.WriteAllText(path, json.ToJsonString());
            var tok = TokenizerLoader.Load(path);
            Assert.Equal(50256, tok.BosId);
            foreach (string text in SampleTexts)
            {
                Assert.Equal([50256, .. Gpt2.Value.Encode(text)], tok.Encode(text));
                Assert.Equal(text, tok.Decode(tok.Encode(text)));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void OptKnownIds()
    {
        var tok = Opt.Value;
        Assert.Equal([2, 31414, 232, 328], tok.Encode("Hello world!"));
        Assert.Equal(2, tok.BosId);
        Assert.Equal("Hello world!", tok.Decode([2, 31414, 232, 328]));
        // Detected from the RoBERTa vocabulary without hints, too.
        Assert.Equal([2, 31414, 232, 328], TokenizerLoader.Load(Tokenizers("opt", "vocab.json")).Encode("Hello world!"));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Gpt2TokenizerJsonMatchesVocabJson(string text)
    {
        Assert.Equal(Gpt2.Value.Encode(text), Gpt2Json.Value.Encode(text));
        Assert.Null(Gpt2Json.Value.BosId);
    }

    [Fact]
    public void Phi3TokenizerJsonKnownIds()
    {
        var tok = Phi3.Value;
        Assert.IsType<MetaspaceBpeTokenizer>(tok);
        Assert.Equal([1, 15043, 3186], tok.Encode("Hello world"));
        Assert.Equal([15043, 3186], tok.Encode("Hello world", addBos: false));
        Assert.Equal("Hello world", tok.Decode([1, 15043, 3186]));
        Assert.Equal([32007], tok.Encode("<|end|>", addBos: false));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Phi3AgreesWithLlama2SentencePiece(string text)
    {
        Assert.Equal(Llama2.Value.Encode(text), Phi3.Value.Encode(text));
    }

    [Fact]
    public void Phi3AgreesWithLlama2OnWikiTextRows()
    {
        foreach (string row in File.ReadLines(SharedData.Path("data", "wikitext2", "test.jsonl")).Take(400)
                     .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!))
            Assert.Equal(Llama2.Value.Encode(row), Phi3.Value.Encode(row));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void RoundTripsEveryFamily(string text)
    {
        foreach (var tok in new[] { Llama2.Value, Llama3.Value, Gpt2.Value, Gpt2Json.Value, Opt.Value, Phi3.Value })
        {
            int[] ids = tok.Encode(text, addBos: false);
            Assert.True(text == tok.Decode(ids), $"{tok.GetType().Name}: [{string.Join(", ", ids)}] -> '{tok.Decode(ids)}'");
            Assert.Equal(text, tok.Decode(tok.Encode(text, addBos: true)));
        }
    }

    [Fact]
    public void DecodeDropsIncompleteUtf8AtTheEnd()
    {
        foreach (var tok in new[] { Llama2.Value, Llama3.Value, Gpt2.Value, Phi3.Value })
        {
            int[] ids = tok.Encode("ok 😀", addBos: false);
            string partial = tok.Decode(ids[..^1]);
            Assert.DoesNotContain('\uFFFD', partial);
            Assert.StartsWith("ok", partial);
        }
    }
}
