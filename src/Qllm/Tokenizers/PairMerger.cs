namespace Qllm.Tokenizers;

/// <summary>
/// Greedy pair merging as SentencePiece-style BPE does it: repeatedly merge the adjacent pair with the best
/// priority, the leftmost on ties, until no pair is mergeable. A naive implementation rescans the whole
/// sequence for every merge (O(n²), far too slow for a 1.3 MB corpus); this one keeps the candidate pairs
/// in a priority queue over a linked list and yields the same merges in the same order, in O(n log n).
/// Merges never reorder symbols, so a symbol's original index orders "leftmost" correctly throughout.
/// </summary>
public static class PairMerger
{
    /// <param name="ids">Initial symbol ids, merged in place.</param>
    /// <param name="tryMerge">For a (left, right) id pair: the merged id and its priority (higher merges first), or false.</param>
    public static List<int> Merge(List<int> ids, Func<int, int, (bool Ok, int Id, float Priority)> tryMerge)
    {
        int n = ids.Count;
        if (n < 2) return ids;
        var symbol = ids.ToArray();
        var next = new int[n];
        var prev = new int[n];
        var version = new int[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }

        // Priority: higher score first, then smaller left index (leftmost). PriorityQueue pops the smallest.
        var queue = new PriorityQueue<(int Left, int Right, int LeftVersion, int RightVersion, int MergedId), (float, int)>();
        void Consider(int left)
        {
            if (left < 0) return;
            int right = next[left];
            if (right < 0) return;
            var (ok, merged, priority) = tryMerge(symbol[left], symbol[right]);
            if (ok) queue.Enqueue((left, right, version[left], version[right], merged), (-priority, left));
        }

        for (int i = 0; i < n - 1; i++) Consider(i);
        while (queue.TryDequeue(out var pair, out _))
        {
            // Stale: one side was merged into something else since this pair was queued.
            if (version[pair.Left] != pair.LeftVersion || version[pair.Right] != pair.RightVersion || next[pair.Left] != pair.Right)
                continue;
            symbol[pair.Left] = pair.MergedId;
            version[pair.Left]++;
            version[pair.Right] = -1; // removed
            int after = next[pair.Right];
            next[pair.Left] = after;
            if (after >= 0) prev[after] = pair.Left;
            Consider(prev[pair.Left]);
            Consider(pair.Left);
        }

        var result = new List<int>(n);
        for (int i = 0; i >= 0; i = next[i]) result.Add(symbol[i]);
        return result;
    }
}
