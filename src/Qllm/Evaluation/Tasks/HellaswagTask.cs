using System.Text;
using System.Text.RegularExpressions;
using Qllm.Common;

namespace Qllm.Evaluation.Tasks;

/// <summary>
/// hellaswag (lm_eval/tasks/hellaswag/hellaswag.yaml, utils.py): validation split; query =
/// preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), choices = preprocess(ending), metrics acc
/// and acc_norm; preprocess strips, turns " [title]" into ". ", drops "[...]" tags and replaces double spaces.
/// <para>
/// The shared file is llama.cpp's text form: 6 lines per item (activity_label + ": " + ctx, the gold index,
/// four endings), ctx = ctx_a + " " + ctx_b with ctx_b not capitalised, and the split between ctx_a and ctx_b
/// lost. Reconstruction: the final fragment of the context (after the last ". " or the label's ": ") is taken to
/// be ctx_b and its first letter upper-cased when it is lower case, then preprocess is applied. What cannot be
/// rebuilt: str.capitalize() also lower-cases the rest of ctx_b (a capital letter inside ctx_b stays here), and a
/// ctx_b that does not follow a sentence end is not capitalised.
/// </para>
/// </summary>
public sealed partial class HellaswagTask : MultipleChoiceTask
{
    private const int LinesPerItem = 6;

    public override string Name => "hellaswag";
    protected override bool ReportsAccNorm => true;

    public override IReadOnlyList<MultipleChoiceDocument> LoadDocuments(string dataDirectory, int? numFewshot)
    {
        RequireZeroShot(numFewshot);
        string path = Path.Combine(dataDirectory, "hellaswag", "hellaswag_val_full.txt.bz2");
        byte[] compressed = File.Exists(path) ? File.ReadAllBytes(path) : throw new ModelFormatException(path, "file not found");
        return Parse(Encoding.UTF8.GetString(BZip2Decoder.Decompress(compressed, path)), path);
    }

    public static IReadOnlyList<MultipleChoiceDocument> Parse(string text, string path)
    {
        string[] lines = text.Split('\n');
        int count = lines.Length / LinesPerItem;
        if (lines.Length % LinesPerItem > 1 || (lines.Length % LinesPerItem == 1 && lines[^1].Length > 0))
            throw new ModelFormatException(path, $"line {count * LinesPerItem + 1}: an incomplete item (expected {LinesPerItem} lines per item)");
        var documents = new MultipleChoiceDocument[count];
        for (int i = 0; i < count; i++)
        {
            int first = i * LinesPerItem;
            if (!int.TryParse(lines[first + 1], out int gold) || gold is < 0 or > 3)
                throw new ModelFormatException(path, $"line {first + 2}: gold '{lines[first + 1]}' is not 0..3");
            string[] endings = lines[(first + 2)..(first + 6)].Select(Preprocess).ToArray();
            documents[i] = MultipleChoiceDocument.SharedContext(Preprocess(CapitaliseLastFragment(lines[first])), endings, gold);
        }
        return documents;
    }

    /// <summary>utils.preprocess, step by step.</summary>
    public static string Preprocess(string text)
    {
        text = text.Trim();
        text = text.Replace(" [title]", ". ");
        text = BracketTag().Replace(text, "");
        return text.Replace("  ", " ");
    }

    /// <summary>ctx_b.capitalize() as far as it can be rebuilt: the first letter of the final fragment upper-cased.</summary>
    public static string CapitaliseLastFragment(string context)
    {
        int start = Math.Max(context.LastIndexOf(". ", StringComparison.Ordinal), context.IndexOf(": ", StringComparison.Ordinal));
        if (start < 0) return context;
        start += 2;
        return start < context.Length && char.IsLower(context[start])
            ? context[..start] + char.ToUpperInvariant(context[start]) + context[(start + 1)..]
            : context;
    }

    [GeneratedRegex(@"\[.*?\]")]
    private static partial Regex BracketTag();
}
