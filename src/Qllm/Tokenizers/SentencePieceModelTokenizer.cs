using Microsoft.ML.Tokenizers;

namespace Qllm.Tokenizers;

/// <summary>A SentencePiece BPE <c>tokenizer.model</c> (LLaMA-1/2, Mistral) via Microsoft.ML.Tokenizers' LlamaTokenizer.</summary>
public sealed class SentencePieceModelTokenizer : ITextTokenizer
{
    private readonly LlamaTokenizer _tokenizer;
    private readonly string[] _pieces;

    public int VocabSize => _pieces.Length;
    public int? BosId { get; }
    public int? EosId { get; }

    private SentencePieceModelTokenizer(LlamaTokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        int size = 0;
        foreach (var (_, id) in tokenizer.Vocabulary) size = Math.Max(size, id + 1);
        _pieces = new string[size];
        Array.Fill(_pieces, "");
        foreach (var (piece, id) in tokenizer.Vocabulary) _pieces[id] = piece;
        BosId = tokenizer.BeginningOfSentenceId;
        EosId = tokenizer.EndOfSentenceId;
    }

    public static SentencePieceModelTokenizer Create(Stream modelProto) =>
        new(LlamaTokenizer.Create(modelProto, addBeginOfSentence: true, addEndOfSentence: false));

    public int[] Encode(string text, bool addBos = true)
    {
        if (text.Length == 0) return addBos && BosId is int b ? [b] : [];
        var ids = _tokenizer.EncodeToIds(text, addBos, false);
        return [.. ids];
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        int bos = BosId ?? -1, eos = EosId ?? -1;
        return Utf8Bytes.DecodePieces(ids, _pieces, id => id == bos || id == eos, metaspace: true);
    }
}
