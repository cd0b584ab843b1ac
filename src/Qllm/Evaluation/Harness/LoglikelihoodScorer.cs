using Qllm.Models;
using Qllm.Models.KvCache;
using Qllm.Tokenizers;

namespace Qllm.Evaluation.Harness;

/// <summary>
/// lm-evaluation-harness's <c>loglikelihood</c> for groups of requests (each group a question's choices): each
/// request is encoded and windowed as HFLM does (<see cref="RequestEncoder"/>, <see cref="ScoringWindow"/>), and scored
/// as Σ log_softmax(logits)[target] over its continuation tokens, with is_greedy = every target is the argmax.
/// <para>
/// Speed without changing a result:
/// <list type="bullet">
/// <item>Requests run <see cref="LoglikelihoodOptions.BatchSize"/> at a time across groups, right-padded: causal
/// attention keeps the padding out of every real position, and a row's result does not depend on its batch.</item>
/// <item>The token prefix all windows of a group share (at most up to each one's last context token, whose output is
/// the first scored one) is prefilled once into a KV cache and copied into each request's sequence of the batch cache,
/// so a request runs only its own tokens. Groups whose prefixes have the same length prefill together.</item>
/// <item>The LM head runs once per batch over every scored row.</item>
/// </list>
/// </para>
/// </summary>
public sealed class LoglikelihoodScorer
{
    private const int HeadRowsPerCall = 512; // bounds the logits buffer (rows × vocabulary floats)

    private readonly CausalLanguageModel _model;
    private readonly RequestEncoder _encoder;
    private readonly KvPrefixCopy _prefixCopy;
    private IKvCache? _batchCache, _prefixCache;
    private float[] _logits = [], _headInput = [];

    public LoglikelihoodScorer(CausalLanguageModel model, ITextTokenizer tokenizer, LoglikelihoodOptions options)
    {
        if (options.BatchSize < 1) throw new Common.QllmException($"--batch-size must be at least 1, got {options.BatchSize}.");
        _model = model;
        Options = options;
        MaxLength = Math.Min(options.MaxLength ?? model.Config.MaxPositions, model.Config.MaxPositions);
        _encoder = new RequestEncoder(tokenizer, options.AddBos);
        _prefixCopy = new KvPrefixCopy(model.Config.NumKvHeads, model.Config.HeadDim);
    }

    public LoglikelihoodOptions Options { get; }

    /// <summary>lm-eval's max_length: windows hold at most this many input tokens.</summary>
    public int MaxLength { get; }

    /// <summary>Token positions run through the model so far (prefixes once, padding included): the work prefix reuse saves.</summary>
    public long ForwardedTokens { get; private set; }

    public EncodedRequest Encode(LoglikelihoodRequest request) => _encoder.Encode(request);

    public ScoringWindow Window(LoglikelihoodRequest request) => ScoringWindow.Of(_encoder.Encode(request), MaxLength);

    /// <summary>Scores one group of requests (a question's choices).</summary>
    public LoglikelihoodResult[] Score(IReadOnlyList<LoglikelihoodRequest> requests) => ScoreGroups([requests])[0];

    public LoglikelihoodResult[] Score(IReadOnlyList<ScoringWindow> windows) => ScoreWindows([windows])[0];

    /// <summary>Scores many groups, batching across them; <paramref name="progress"/> gets the number of groups done.</summary>
    public LoglikelihoodResult[][] ScoreGroups(IReadOnlyList<IReadOnlyList<LoglikelihoodRequest>> groups, Action<int>? progress = null) =>
        ScoreWindows(groups.Select(g => (IReadOnlyList<ScoringWindow>)g.Select(Window).ToArray()).ToArray(), progress);

    public LoglikelihoodResult[][] ScoreWindows(IReadOnlyList<IReadOnlyList<ScoringWindow>> groups, Action<int>? progress = null)
    {
        var results = new LoglikelihoodResult[groups.Count][];
        var remaining = new int[groups.Count];
        for (int g = 0; g < groups.Count; g++) results[g] = new LoglikelihoodResult[remaining[g] = groups[g].Count];
        int[] prefixes = groups.Select(g => Options.ReusePrefix && g.Count > 1 ? SharedPrefix(g) : 0).ToArray();
        int done = 0;
        void Run(ReadOnlySpan<Item> batch, int prefix, IKvCache? prefixCache)
        {
            RunBatch(groups, batch, prefix, prefixCache, results);
            foreach (var item in batch)
                if (--remaining[item.Group] == 0) progress?.Invoke(++done);
        }

        foreach (var bucket in Enumerable.Range(0, groups.Count).GroupBy(g => prefixes[g]))
        {
            int prefix = bucket.Key;
            if (prefix == 0)
            {
                // Nothing to prefill: requests batch one by one, longest first, as lm-eval's collator orders them, so
                // that a batch pads little.
                var items = bucket.SelectMany(g => Enumerable.Range(0, groups[g].Count).Select(i => new Item(g, i, 0)))
                    .OrderByDescending(item => groups[item.Group][item.Index].Input.Length).ToArray();
                for (int start = 0; start < items.Length; start += Options.BatchSize)
                    Run(items.AsSpan(start, Math.Min(Options.BatchSize, items.Length - start)), 0, null);
                continue;
            }
            // Groups whose prefixes prefill together: as many as one batch of requests holds (at least one), taken
            // in order of their longest request, so that a batch pads little.
            int[] members = bucket.OrderByDescending(g => groups[g].Max(w => w.Input.Length)).ToArray();
            for (int first = 0; first < members.Length;)
            {
                int end = first + 1, requests = groups[members[first]].Count;
                while (end < members.Length && requests + groups[members[end]].Count <= Options.BatchSize) requests += groups[members[end++]].Count;
                int[] slice = members[first..end];
                var prefixCache = Prefill(groups, slice, prefix);
                var items = slice.SelectMany((g, source) => Enumerable.Range(0, groups[g].Count).Select(i => new Item(g, i, source))).ToArray();
                for (int start = 0; start < items.Length; start += Options.BatchSize)
                    Run(items.AsSpan(start, Math.Min(Options.BatchSize, items.Length - start)), prefix, prefixCache);
                first = end;
            }
        }
        return results;
    }

    /// <summary>A request of a batch: window <see cref="Index"/> of group <see cref="Group"/>, whose prefix is sequence <see cref="Source"/> of the prefix cache.</summary>
    private readonly record struct Item(int Group, int Index, int Source);

    /// <summary>Longest common token prefix, stopping before any window's first scored position (its output must be computed).</summary>
    public static int SharedPrefix(IReadOnlyList<ScoringWindow> windows)
    {
        int limit = windows.Min(w => w.FirstScoredPosition);
        var first = windows[0].Input;
        for (int p = 0; p < limit; p++)
            for (int i = 1; i < windows.Count; i++)
                if (windows[i].Input[p] != first[p]) return p;
        return limit;
    }

    /// <summary>The groups' shared prefixes (all <paramref name="prefix"/> tokens long) as one batch, sequence s for group slice[s].</summary>
    private IKvCache Prefill(IReadOnlyList<IReadOnlyList<ScoringWindow>> groups, int[] slice, int prefix)
    {
        var tokens = new int[slice.Length * prefix];
        for (int s = 0; s < slice.Length; s++) groups[slice[s]][0].Input.AsSpan(0, prefix).CopyTo(tokens.AsSpan(s * prefix));
        var cache = Cache(ref _prefixCache, slice.Length, prefix);
        cache.Reset();
        _model.ForwardHidden(tokens, slice.Length, prefix, cache);
        ForwardedTokens += tokens.Length;
        return cache;
    }

    private void RunBatch(IReadOnlyList<IReadOnlyList<ScoringWindow>> groups, ReadOnlySpan<Item> items, int prefix, IKvCache? prefixCache, LoglikelihoodResult[][] results)
    {
        int count = items.Length, seqLen = 0;
        foreach (var item in items) seqLen = Math.Max(seqLen, groups[item.Group][item.Index].Input.Length - prefix);
        var tokens = new int[count * seqLen];
        for (int i = 0; i < count; i++)
        {
            var suffix = groups[items[i].Group][items[i].Index].Input.AsSpan(prefix);
            suffix.CopyTo(tokens.AsSpan(i * seqLen));
            tokens.AsSpan(i * seqLen + suffix.Length, seqLen - suffix.Length).Fill(suffix[^1]); // padding after the real tokens
        }

        IKvCache? cache = null;
        if (prefixCache != null)
        {
            cache = Cache(ref _batchCache, count, prefix + seqLen);
            cache.Reset();
            var sourceOf = new int[count];
            for (int i = 0; i < count; i++) sourceOf[i] = items[i].Source;
            _prefixCopy.Copy(prefixCache, cache, sourceOf, prefix);
            cache.Advance(prefix);
        }
        float[] hidden = _model.ForwardHidden(tokens, count, seqLen, cache);
        ForwardedTokens += (long)count * seqLen;
        ScoreRows(groups, items, prefix, seqLen, hidden, results);
    }

    /// <summary>
    /// The head over the scored rows of every request of the batch, gathered into one matrix (up to
    /// <see cref="HeadRowsPerCall"/> rows a call): one pass over the head's weights instead of one per request.
    /// </summary>
    private void ScoreRows(IReadOnlyList<IReadOnlyList<ScoringWindow>> groups, ReadOnlySpan<Item> items, int prefix, int seqLen, float[] hidden, LoglikelihoodResult[][] results)
    {
        int width = _model.Config.HeadInputDim, vocab = _model.Config.VocabSize;
        for (int first = 0; first < items.Length;)
        {
            int end = first, rows = 0;
            do rows += groups[items[end].Group][items[end].Index].ScoredCount;
            while (++end < items.Length && rows + groups[items[end].Group][items[end].Index].ScoredCount <= HeadRowsPerCall);
            if (_headInput.Length < rows * width) _headInput = new float[rows * width];
            if (_logits.Length < (long)rows * vocab) _logits = new float[(long)rows * vocab];
            int row = 0;
            for (int i = first; i < end; i++)
            {
                var window = groups[items[i].Group][items[i].Index];
                int firstRow = i * seqLen + window.FirstScoredPosition - prefix;
                hidden.AsSpan(firstRow * width, window.ScoredCount * width).CopyTo(_headInput.AsSpan(row * width));
                row += window.ScoredCount;
            }
            _model.Logits(_headInput.AsSpan(0, rows * width), _logits.AsSpan(0, rows * vocab), rows);
            row = 0;
            for (int i = first; i < end; i++)
            {
                var window = groups[items[i].Group][items[i].Index];
                results[items[i].Group][items[i].Index] = ContinuationScore.Of(_logits.AsSpan(row * vocab, window.ScoredCount * vocab), vocab, window.Targets);
                row += window.ScoredCount;
            }
            first = end;
        }
    }

    /// <summary>
    /// One cache per use, grown to the largest batch and length seen (in steps of 64 positions) and not remade per
    /// batch: a smaller batch runs on its first sequences. One cache per batch size would hold gigabytes at --batch-size 32.
    /// </summary>
    private IKvCache Cache(ref IKvCache? cache, int batch, int capacity)
    {
        if (cache == null || cache.BatchSize < batch || cache.Capacity < capacity)
        {
            batch = Math.Max(batch, cache?.BatchSize ?? 0);
            capacity = Math.Max(capacity, cache?.Capacity ?? 0);
            cache = null; // let the old one go before the new one is allocated
            cache = _model.CreateKvCache(batch, Math.Min(_model.Config.MaxPositions, (capacity + 63) / 64 * 64));
        }
        return cache;
    }
}
