namespace Qllm.Tokenizers;

/// <summary>
/// Greedy pairwise merging shared by the llama2.c and SentencePiece-style BPE tokenizers: repeatedly merge
/// the adjacent pair with the highest score, the leftmost one on ties, until no pair applies. Same result as
/// the quadratic rescan loop of llama2.c <c>run.c</c>, in O(n log n): a priority queue ordered by
/// (score descending, left symbol's original position ascending) over a doubly linked list of symbols,
/// with stale entries recognised by per-symbol version numbers. A merged symbol keeps the left symbol's position.
/// </summary>
internal static class BpeMerger
{
    /// <summary>Whether <paramref name="left"/> followed by <paramref name="right"/> merges, into which id, with which score.</summary>
    public delegate bool PairLookup(int left, int right, out int merged, out float score);

    private readonly record struct Priority(float Score, int Position);

    private readonly record struct Candidate(int Left, int Right, int LeftVersion, int RightVersion, int Merged);

    private sealed class PriorityComparer : IComparer<Priority>
    {
        public static readonly PriorityComparer Instance = new();

        public int Compare(Priority x, Priority y)
        {
            int c = y.Score.CompareTo(x.Score); // higher score first
            return c != 0 ? c : x.Position.CompareTo(y.Position);
        }
    }

    /// <summary>Merges <paramref name="ids"/>[<paramref name="start"/>..] in place.</summary>
    public static void Merge(List<int> ids, int start, PairLookup lookup)
    {
        int n = ids.Count - start;
        if (n < 2) return;
        int[] sym = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int[] version = new int[n];
        for (int i = 0; i < n; i++)
        {
            sym[i] = ids[start + i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        var queue = new PriorityQueue<Candidate, Priority>(n, PriorityComparer.Instance);
        void Consider(int left, int right)
        {
            if (left < 0 || right < 0) return;
            if (lookup(sym[left], sym[right], out int merged, out float score))
                queue.Enqueue(new Candidate(left, right, version[left], version[right], merged), new Priority(score, left));
        }

        for (int i = 0; i + 1 < n; i++) Consider(i, i + 1);

        while (queue.TryDequeue(out var c, out _))
        {
            if (version[c.Left] != c.LeftVersion || version[c.Right] != c.RightVersion) continue; // stale
            sym[c.Left] = c.Merged;
            version[c.Left]++;
            version[c.Right]++;
            int after = next[c.Right];
            next[c.Left] = after;
            if (after >= 0) prev[after] = c.Left;
            next[c.Right] = -1;
            prev[c.Right] = -1;
            Consider(prev[c.Left], c.Left);
            Consider(c.Left, after);
        }

        ids.RemoveRange(start, n);
        for (int i = 0; i >= 0; i = next[i]) ids.Add(sym[i]);
    }
}
