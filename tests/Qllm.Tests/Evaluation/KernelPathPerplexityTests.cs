using Qllm.Evaluation;
using Qllm.Formats.HuggingFace;
using Qllm.Formats.Llama2c;
using Qllm.Models;
using Qllm.Tensors.Kernels;
using Qllm.Tests.Formats;
using Qllm.Tests.Support;
using Qllm.Tests.Tensors;
using Xunit;

namespace Qllm.Tests.Evaluation;

/// <summary>
/// Perplexity must not depend on the instruction set: the AVX-512 and AVX2 kernels agree with the portable
/// Vector&lt;T&gt; path to 1e-5 relative, on stories260K and on the random HF checkpoints of the oracle tests.
/// </summary>
[Collection(KernelPathCollection.Name)]
public class KernelPathPerplexityTests
{
    private static double Perplexity(CausalLanguageModel model, int[] tokens, int seqLen, KernelPath path)
    {
        var previous = KernelSelector.Force(path);
        try { return PerplexityEvaluator.Evaluate(model, "t", tokens, seqLen).Perplexity; }
        finally { KernelSelector.Force(previous); }
    }

    [Fact]
    public void Stories260KPerplexityIsTheSameOnEveryPath()
    {
        var model = Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint);
        var tokenizer = Qllm.Tokenizers.TokenizerLoader.Load(SharedModels.Stories260KTokenizer);
        int[] tokens = tokenizer.Encode(PerplexityDatasets.Load("wikitext2", SharedData.Path("data")).Text[..30000]);
        double portable = Perplexity(model, tokens, 512, KernelPath.Portable);
        foreach (var path in new[] { KernelPath.Avx512, KernelPath.Avx2 })
            Assert.Equal(portable, Perplexity(model, tokens, 512, path), portable * 1e-5);
    }

    [Theory]
    [MemberData(nameof(HfOracleLogitsTests.Cases), MemberType = typeof(HfOracleLogitsTests))]
    public void HfCheckpointPerplexityIsTheSameOnEveryPath(string name)
    {
        using var folder = new TempFolder();
        HfOracleLogitsTests.WriteCheckpoint(HfOracleLogitsTests.Case(name), folder.Path);
        var model = HfModelLoader.Load(folder.Path);
        int[] tokens = Enumerable.Range(0, 200).Select(i => (i * 37 + 11) % model.Config.VocabSize).ToArray();
        double portable = Perplexity(model, tokens, 40, KernelPath.Portable);
        foreach (var path in new[] { KernelPath.Avx512, KernelPath.Avx2 })
            Assert.Equal(portable, Perplexity(model, tokens, 40, path), portable * 1e-5);
    }
}
