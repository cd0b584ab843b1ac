namespace Qllm.Evaluation.Tasks;

/// <summary>
/// copa (lm_eval/tasks/super_glue/copa/default.yaml with utils.py): doc_to_text = premise without its final period
/// + " because" (cause) or " therefore" (effect); each choice with its first letter lower-cased (convert_choice),
/// after the default target delimiter " "; metric acc. The mosaic query is "premise-without-period, connector":
/// its comma before the connector is what lm-eval's text does not have, so it is removed.
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
        return MultipleChoiceDocument.SharedContext(context, choices.Select(LowerFirst).ToArray(), record.Index(record.Int("gold"), 2, "gold"));
    }

    /// <summary>utils.convert_choice: choice[0].lower() + choice[1:].</summary>
    public static string LowerFirst(string choice) => char.ToLowerInvariant(choice[0]) + choice[1..];
}
