namespace Qllm.Evaluation.Tasks;

/// <summary>
/// copa (lm_eval/tasks/super_glue/copa/default.yaml, version 1.0, with utils.py): doc_to_text = premise without its
/// final period + " because" (cause) or " therefore" (effect); doc_to_choice = [choice1, choice2] as the data set has
/// them, after the default target delimiter " "; metric acc. (Earlier versions lower-cased each choice's first letter
/// with utils.convert_choice; version 1.0 no longer does.) The mosaic file differs from super_glue in two ways, both
/// undone here: its query is "premise-without-period, connector" (the comma is removed), and its choices were
/// lower-cased; COPA's choices are sentences that all begin with a capital, so the first letter is restored.
/// </summary>
public sealed class CopaTask : MultipleChoiceTask
{
    public override string Name => "copa";
    protected override bool ReportsAccNorm => false;

    public override IReadOnlyList<MultipleChoiceDocument> LoadDocuments(string dataDirectory, int? numFewshot)
    {
        RequireZeroShot(numFewshot);
        return TaskFile.JsonLines(Path.Combine(dataDirectory, "copa", "val.mosaic.jsonl")).Select(Document).ToArray();
    }

    public static MultipleChoiceDocument Document(TaskRecord record)
    {
        string query = record.String("query");
        string? context = null;
        foreach (string connector in new[] { "because", "therefore" })
            if (query.EndsWith(", " + connector, StringComparison.Ordinal))
                context = query[..^(connector.Length + 2)] + " " + connector;
        if (context is null) throw record.Error("query does not end in ', because' or ', therefore'");
        string[] choices = record.Strings("choices");
        if (choices.Length != 2 || choices.Any(c => c.Length == 0)) throw record.Error("expected two non-empty choices");
        return MultipleChoiceDocument.SharedContext(context, choices.Select(UpperFirst).ToArray(), record.Index(record.Int("gold"), 2, "gold"));
    }

    /// <summary>The choice as super_glue has it: the mosaic file's lower-cased first letter capitalised again.</summary>
    public static string UpperFirst(string choice) => char.ToUpperInvariant(choice[0]) + choice[1..];
}
