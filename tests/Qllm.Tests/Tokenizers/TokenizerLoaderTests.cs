using Qllm.Common;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Tokenizers;

public class TokenizerLoaderTests
{
    private static string Tokenizers(params string[] parts) => SharedData.Path(["models", "tokenizers", .. parts]);

    [Theory]
    [InlineData("llama2", "tokenizer.model", typeof(SentencePieceModelTokenizer))]
    [InlineData("llama3", "tokenizer.model", typeof(TiktokenModelTokenizer))]
    [InlineData("gpt2", "tokenizer.json", typeof(ByteLevelBpeTokenizer))]
    [InlineData("opt", "vocab.json", typeof(ByteLevelBpeTokenizer))]
    [InlineData("phi-3-mini", "tokenizer.json", typeof(MetaspaceBpeTokenizer))]
    public void FindsAndLoadsFromDirectories(string folder, string expectedFile, Type expectedType)
    {
        string dir = Tokenizers(folder);
        Assert.True(TokenizerLoader.TryFindInDirectory(dir, out string found));
        Assert.Equal(Path.Combine(dir, expectedFile), found);
        Assert.IsType(expectedType, TokenizerLoader.Load(dir));
        Assert.IsType(expectedType, TokenizerLoader.Load(found));
    }

    [Fact]
    public void FindsLlama2cTokenizerBin()
    {
        string dir = SharedData.Path("models", "stories260K");
        Assert.True(TokenizerLoader.TryFindInDirectory(dir, out string found));
        Assert.Equal(Path.Combine(dir, "tok512.bin"), found);
        var tok = TokenizerLoader.Load(dir, new TokenizerHints("llama2.c", 1, 2));
        Assert.IsType<Llama2cTokenizer>(tok);
        Assert.Equal(512, tok.VocabSize);
    }

    [Fact]
    public void PrefersTokenizerJsonThenModelThenVocab()
    {
        string dir = Directory.CreateTempSubdirectory("qllm-tok-").FullName;
        try
        {
            Assert.False(TokenizerLoader.TryFindInDirectory(dir, out _));
            File.Copy(Tokenizers("gpt2", "vocab.json"), Path.Combine(dir, "vocab.json"));
            Assert.False(TokenizerLoader.TryFindInDirectory(dir, out _)); // no merges.txt
            File.Copy(Tokenizers("gpt2", "merges.txt"), Path.Combine(dir, "merges.txt"));
            Assert.True(TokenizerLoader.TryFindInDirectory(dir, out string p));
            Assert.EndsWith("vocab.json", p);
            File.Copy(Tokenizers("llama2", "tokenizer.model"), Path.Combine(dir, "tokenizer.model"));
            Assert.True(TokenizerLoader.TryFindInDirectory(dir, out p));
            Assert.EndsWith("tokenizer.model", p);
            File.Copy(Tokenizers("gpt2", "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
            Assert.True(TokenizerLoader.TryFindInDirectory(dir, out p));
            Assert.EndsWith("tokenizer.json", p);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MissingFilesAreModelFormatErrors()
    {
        string missing = Path.Combine(Path.GetTempPath(), "qllm-no-such-tokenizer.model");
        Assert.Equal(missing, Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(missing)).FilePath);

        string dir = Directory.CreateTempSubdirectory("qllm-tok-").FullName;
        try
        {
            Assert.Equal(dir, Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(dir)).FilePath);
            string vocab = Path.Combine(dir, "vocab.json");
            File.Copy(Tokenizers("gpt2", "vocab.json"), vocab);
            Assert.Equal(Path.Combine(dir, "merges.txt"), Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(vocab)).FilePath);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": ")]
    [InlineData("tokenizer.json", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}")]
    [InlineData("tokenizer.model", "\u0001\u0002garbage that is not a protobuf")]
    [InlineData("tokenizer.model", "IQ== 0\nnot base64 at all\n")]
    [InlineData("tokenizer.bin", "\u0010\u0000\u0000\u0000\u0000\u0000")]
    public void MalformedFilesAreModelFormatErrors(string name, string content)
    {
        string dir = Directory.CreateTempSubdirectory("qllm-tok-").FullName;
        try
        {
            string path = Path.Combine(dir, name);
            File.WriteAllText(path, content);
            var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(path));
            Assert.Equal(path, e.FilePath);
            Assert.Contains(path, e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
