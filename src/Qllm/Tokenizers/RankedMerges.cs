namespace Qllm.Tokenizers;

/// <summary>
/// The merge table of a rank-ordered BPE (GPT-2 merges.txt, tokenizer.json "merges"): merging a pair of ids
/// gives the id of their concatenation, and earlier merges win. Ranks become scores (−rank) for
/// <see cref="BpeMerger"/>, whose "highest score first" then means "lowest rank first", as HF BPE applies them.
/// </summary>
internal sealed class RankedMerges
{
    private readonly Dictionary<long, (int Merged, int Rank)> _table;

    /// <param name="merges">Pairs of pieces in rank order; pairs whose pieces or result are not in the vocabulary are skipped.</param>
    public RankedMerges(IReadOnlyList<(string Left, string Right)> merges, IReadOnlyDictionary<string, int> vocab)
    {
        _table = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (a, b) = merges[rank];
            if (vocab.TryGetValue(a, out int ia) && vocab.TryGetValue(b, out int ib) && vocab.TryGetValue(a + b, out int m))
                _table.TryAdd(Key(ia, ib), (m, rank));
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>A <see cref="BpeMerger.PairLookup"/>.</summary>
    public bool TryMerge(int left, int right, out int merged, out float score)
    {
        if (_table.TryGetValue(Key(left, right), out var m))
        {
            merged = m.Merged;
            score = -m.Rank;
            return true;
        }
        merged = -1;
        score = 0;
        return false;
    }
}
