using Qllm.Evaluation;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Evaluation;

/// <summary>
/// The whole WikiText-2 test string ("\n\n"-joined rows, BOS added) tokenized with the real tokenizers.
/// GPTQ's LLaMA runs score 166 windows of 2048 (341,469 tokens) and its OPT runs 140 (287,645 tokens):
/// matching them checks the data set, the join and the tokenizers together.
/// </summary>
public class PerplexityTokenCountTests
{
    private static readonly Lazy<string> WikiText2 = new(() => PerplexityDatasets.Load("wikitext2", SharedData.Path("data")).Text);

    [Theory]
    [InlineData("llama2/tokenizer.model", "llama", 341_469, 1)]
    [InlineData("opt/vocab.json", "opt", 287_645, 2)]
    [InlineData("llama3/tokenizer.model", "llama", 289_077, 128_000)] // regression value (no published figure at hand)
    public void WikiText2TokenCountsMatchGptqRuns(string tokenizer, string modelType, int expectedTokens, int bos)
    {
        var t = TokenizerLoader.Load(SharedData.Path("models", "tokenizers", tokenizer), new TokenizerHints(modelType));
        int[] ids = t.Encode(WikiText2.Value);
        Assert.Equal(bos, ids[0]);
        Assert.Equal(expectedTokens, ids.Length);
    }
}
