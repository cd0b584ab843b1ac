using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Tokenizers;

/// <summary>LLaMA-2 SentencePiece ids published in karpathy/llama2.c's test.c (encoded with the official tokenizer.model).</summary>
public class SentencePieceKnownIdsTests
{
    private static readonly Lazy<ITextTokenizer> Llama2 = new(() =>
        TokenizerLoader.Load(SharedData.Path("models", "tokenizers", "llama2", "tokenizer.model")));

    [Fact]
    public void MatchesTheIdsInLlama2cTestC()
    {
        Assert.Equal([1, 306, 4658, 278, 6593, 310, 2834, 338], Llama2.Value.Encode("I believe the meaning of life is"));
    }
}
