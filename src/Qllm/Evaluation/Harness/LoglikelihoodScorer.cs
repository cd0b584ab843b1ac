using Qllm.Models;
using Qllm.Models.KvCache;
using Qllm.Tokenizers;

namespace Qllm.Evaluation.Harness;

/// <summary>
/// lm-evaluation-harness's <c>loglikelihood</c> for a group of requests (a question's choices): each request is
/// encoded and windowed as HFLM does (<see cref="RequestEncoder"/>, <see cref="ScoringWindow"/>), and scored as
/// Σ log_softmax(logits)[target] over its continuation tokens, with is_greedy = every target is the argmax.
/// <para>
/// Speed without changing a result: the token prefix all windows of the group share (at most up to each one's
/// last context token, whose output is the first scored one) is prefilled once into a KV cache and copied into
/// a batch cache, so each choice runs only its own tokens. Choices run <see cref="LoglikelihoodOptions.BatchSize"/>
/// at a time, right-padded: causal attention keeps the padding out of every real position.
/// </para>
/// </summary>
public sealed class LoglikelihoodScorer
{
    private readonly CausalLanguageModel _model;
    private readonly RequestEncoder _encoder;
    private readonly KvPrefixCopy _prefixCopy;
    private readonly Dictionary<int, IKvCache> _batchCaches = [];
    private IKvCache? _prefixCache;
    private float[] _logits = [];

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

    /// <summary>Scores a group of requests; prefix reuse spans the group, so pass one question's choices together.</summary>
    public LoglikelihoodResult[] Score(IReadOnlyList<LoglikelihoodRequest> requests) =>
        Score(requests.Select(r => ScoringWindow.Of(_encoder.Encode(r), MaxLength)).ToArray());

    public LoglikelihoodResult[] Score(IReadOnlyList<ScoringWindow> windows)
    {
        int prefix = Options.ReusePrefix && windows.Count > 1 ? SharedPrefix(windows) : 0;
        if (prefix > 0) Prefill(windows[0].Input.AsSpan(0, prefix));
        var results = new LoglikelihoodResult[windows.Count];
        for (int start = 0; start < windows.Count; start += Options.BatchSize)
            RunBatch(windows, start, Math.Min(Options.BatchSize, windows.Count - start), prefix, results);
        return results;
    }

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

    private void Prefill(ReadOnlySpan<int> prefix)
    {
        if (_prefixCache is null || _prefixCache.Capacity < prefix.Length) _prefixCache = _model.CreateKvCache(1, RoundUp(prefix.Length));
        _prefixCache.Reset();
        _model.ForwardHidden(prefix, 1, prefix.Length, _prefixCache);
        ForwardedTokens += prefix.Length;
    }

    private void RunBatch(IReadOnlyList<ScoringWindow> windows, int start, int count, int prefix, LoglikelihoodResult[] results)
    {
        int seqLen = 0;
        for (int i = 0; i < count; i++) seqLen = Math.Max(seqLen, windows[start + i].Input.Length - prefix);
        var tokens = new int[count * seqLen];
        for (int i = 0; i < count; i++)
        {
            var suffix = windows[start + i].Input.AsSpan(prefix);
            suffix.CopyTo(tokens.AsSpan(i * seqLen));
            tokens.AsSpan(i * seqLen + suffix.Length, seqLen - suffix.Length).Fill(suffix[^1]); // padding after the real tokens
        }

        IKvCache? cache = null;
        if (prefix > 0)
        {
            cache = BatchCache(count, prefix + seqLen);
            cache.Reset();
            _prefixCopy.Copy(_prefixCache!, cache, prefix);
            cache.Advance(prefix);
        }
        float[] hidden = _model.ForwardHidden(tokens, count, seqLen, cache);
        ForwardedTokens += (long)count * seqLen;

        int width = _model.Config.HeadInputDim, vocab = _model.Config.VocabSize;
        for (int i = 0; i < count; i++)
        {
            var window = windows[start + i];
            int rows = window.ScoredCount, firstRow = i * seqLen + window.FirstScoredPosition - prefix;
            // One logits buffer for every choice: a continuation's rows × vocabulary can be megabytes.
            if (_logits.Length < rows * vocab) _logits = new float[rows * vocab];
            var logits = _logits.AsSpan(0, rows * vocab);
            _model.Logits(hidden.AsSpan(firstRow * width, rows * width), logits, rows);
            results[start + i] = ContinuationScore.Of(logits, vocab, window.Targets);
        }
    }

    private IKvCache BatchCache(int batch, int capacity)
    {
        if (!_batchCaches.TryGetValue(batch, out var cache) || cache.Capacity < capacity)
            _batchCaches[batch] = cache = _model.CreateKvCache(batch, RoundUp(capacity));
        return cache;
    }

    /// <summary>Caches are kept and grown in steps of 64 positions, not remade per question.</summary>
    private int RoundUp(int positions) => Math.Min(_model.Config.MaxPositions, (positions + 63) / 64 * 64);
}
