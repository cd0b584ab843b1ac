namespace Qllm.Tokenizers;

/// <summary>
/// Text to token ids and back. Every tokenizer family (SentencePiece, tiktoken, GPT-2 BPE,
/// HF tokenizer.json, llama2.c tokenizer.bin) sits behind this one interface.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Number of ids the tokenizer can produce (including special tokens).</summary>
    int VocabSize { get; }

    /// <summary>The id prepended by <see cref="Encode"/> when <c>addBos</c> is true (OPT uses &lt;/s&gt; = 2), or null when the tokenizer adds none.</summary>
    int? BosId { get; }

    /// <summary>End-of-sequence id, or null.</summary>
    int? EosId { get; }

    /// <summary>
    /// Encodes text the way the model's reference tokenizer does when called on a whole string
    /// (Hugging Face <c>tokenizer(text)</c>, or llama2.c <c>encode(text, bos=1, eos=0)</c>):
    /// with <paramref name="addBos"/> the normal BOS handling is applied.
    /// </summary>
    int[] Encode(string text, bool addBos = true);

    /// <summary>
    /// Decodes ids to text, skipping special tokens (BOS/EOS), with the leading-space rule of
    /// the tokenizer family (SentencePiece strips the dummy-prefix space of the first piece).
    /// Incomplete UTF-8 at the end is left out, so streaming callers can decode a growing prefix.
    /// </summary>
    string Decode(ReadOnlySpan<int> ids);
}
