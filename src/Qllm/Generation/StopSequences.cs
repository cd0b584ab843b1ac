namespace Qllm.Generation;

/// <summary>
/// Text stop sequences (lm-evaluation-harness's <c>until</c>): the generated text ends before the earliest
/// occurrence of any of them, and the stop string itself is trimmed. Streaming callers are given only the part
/// of the text that can no longer turn out to be the start of a stop string.
/// </summary>
public sealed class StopSequences
{
    private readonly string[] _stops;

    public StopSequences(IEnumerable<string> stops) => _stops = [.. stops.Where(s => s.Length > 0)];

    public bool IsEmpty => _stops.Length == 0;

    /// <summary>Where the text must be cut: the start of the earliest stop string, or -1 when none occurs.</summary>
    /// <remarks>lm-eval cuts with <c>s.split(term)[0]</c> for each term in turn, which keeps exactly the text before the earliest occurrence.</remarks>
    public int FindCut(string text)
    {
        int cut = -1;
        foreach (string stop in _stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        return cut;
    }

    /// <summary>
    /// How much of <paramref name="text"/> (which holds no stop string) is safe to show: all of it except the longest
    /// suffix that is a proper prefix of some stop string, since the next tokens could complete it.
    /// </summary>
    public int SafeLength(string text)
    {
        int held = 0;
        foreach (string stop in _stops)
            for (int n = Math.Min(stop.Length - 1, text.Length); n > held; n--)
                if (text.AsSpan(text.Length - n).SequenceEqual(stop.AsSpan(0, n))) { held = n; break; }
        return text.Length - held;
    }
}
