using System.Text.Json.Nodes;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Tokenizers;

public class Llama2cTokenizerGoldenTests
{
    private static readonly Lazy<Llama2cTokenizer> Tokenizer = new(() => Llama2cTokenizer.Load(SharedModels.Stories260KTokenizer));

    private static readonly Lazy<JsonObject> Golden = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "oracles", "llama2c_tokenizer_golden.json")))!.AsObject());

    public static TheoryData<int> GoldenCases()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Golden.Value["cases"]!.AsArray().Count; i++) data.Add(i);
        return data;
    }

    /// <summary>Golden ids from tests/oracles/llama2c_tokenizer_oracle.py, a naive Python transcription of run.c's encode loop.</summary>
    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void MatchesTheNaiveRunCEncoder(int index)
    {
        var c = Golden.Value["cases"]!.AsArray()[index]!;
        int[] expected = c["ids"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        Assert.Equal(expected, Tokenizer.Value.Encode(c["text"]!.GetValue<string>()));
    }
}
