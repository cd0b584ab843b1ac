using System.Text.RegularExpressions;

namespace Qllm.Evaluation.Generation;

/// <summary>
/// lm-evaluation-harness's <c>regex</c> filter followed by <c>take_first</c> (lm_eval/filters/extraction.py): take the
/// <c>group_select</c>-th match of <c>re.findall</c> (negative counts from the end); with several groups, the first
/// non-empty one; strip it; "[invalid]" when nothing matches.
/// </summary>
public sealed class RegexAnswerFilter(string name, string pattern, int groupSelect = 0)
{
    public const string Fallback = "[invalid]";

    private readonly Regex _regex = new(pattern, RegexOptions.CultureInvariant);

    /// <summary>The filter's name in lm-eval's results ("strict-match", "flexible-extract").</summary>
    public string Name { get; } = name;

    public string Apply(string response)
    {
        var matches = _regex.Matches(response);
        if (matches.Count == 0) return Fallback;
        var match = matches[groupSelect >= 0 ? groupSelect : matches.Count + groupSelect];
        // findall returns the whole match without groups, the group with one, and a tuple of groups with several.
        string value = match.Groups.Count switch
        {
            1 => match.Value,
            2 => match.Groups[1].Value,
            _ => match.Groups.Values.Skip(1).Select(g => g.Value).First(v => v.Length > 0),
        };
        return value.Trim();
    }
}
