using System.Text.RegularExpressions;

namespace Qllm.Evaluation.Generation;

/// <summary>
/// lm-evaluation-harness's <c>exact_match</c> (<c>exact_match_hf_evaluate</c> in lm_eval/api/metrics.py, ported from
/// Hugging Face evaluate): remove every match of each <c>regexes_to_ignore</c> pattern in turn from prediction and
/// reference, lower-case them when <c>ignore_case</c>, drop ASCII punctuation when <c>ignore_punctuation</c>, then compare.
/// </summary>
public sealed class ExactMatch(IReadOnlyList<string> regexesToIgnore, bool ignoreCase, bool ignorePunctuation)
{
    private const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"; // Python's string.punctuation

    private readonly Regex[] _ignore = [.. regexesToIgnore.Select(p => new Regex(p, RegexOptions.CultureInvariant))];

    public bool Matches(string prediction, string reference) => Normalize(prediction) == Normalize(reference);

    public string Normalize(string text)
    {
        foreach (var regex in _ignore) text = regex.Replace(text, "");
        if (ignoreCase) text = text.ToLowerInvariant();
        if (ignorePunctuation) text = string.Concat(text.Where(c => !AsciiPunctuation.Contains(c)));
        return text;
    }
}
