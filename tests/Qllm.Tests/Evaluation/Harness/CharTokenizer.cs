using Qllm.Tokenizers;

namespace Qllm.Tests.Evaluation.Harness;

/// <summary>A test tokenizer: one token per character, id 3 + (char mod (vocab − 3)); BOS 1, EOS 2.</summary>
public sealed class CharTokenizer(int vocab) : ITextTokenizer
{
    public int VocabSize => vocab;
    public int? BosId => 1;
    public int? EosId => 2;

    public int Id(char c) => 3 + c % (vocab - 3);

    public int[] Encode(string text, bool addBos = true) => [.. (addBos ? new[] { 1 } : []), .. text.Select(Id)];

    public string Decode(ReadOnlySpan<int> ids) => throw new NotSupportedException();
}
