using System.Text.Json;
using Qllm.Common;

namespace Qllm.Evaluation;

/// <summary>A perplexity corpus: the one string that is tokenized whole, and an optional cap on windows.</summary>
public sealed record PerplexityCorpus(string Name, string Text, string Source, int? MaxWindows = null);

/// <summary>
/// The evaluation strings of GPTQ's datautils, built from the files in the data folder:
/// <list type="bullet">
/// <item><c>wikitext2</c>: wikitext-2-raw-v1 test rows joined with "\n\n" (get_wikitext2);</item>
/// <item><c>ptb</c>: PTB test sentences joined with " " (get_ptb_new); <c>ptb-valid</c>: the validation
/// sentences, which GPTQ's original get_ptb scores; lines are stripped as HF's ptb_text_only does;</item>
/// <item><c>c4</c>: the C4 eval excerpt's first 1,100 documents joined with " " and cut to 256 windows (get_c4_new);</item>
/// <item>any <c>.txt</c> file as is, or any <c>.jsonl</c> file's "text" fields joined with "\n\n".</item>
/// </list>
/// </summary>
public static class PerplexityDatasets
{
    public static readonly IReadOnlyList<string> Names = ["wikitext2", "ptb", "ptb-valid", "c4"];

    public static PerplexityCorpus Load(string nameOrPath, string? dataDirectory)
    {
        string key = nameOrPath.ToLowerInvariant();
        if (Names.Contains(key))
        {
            string root = DataDirectory.Resolve(dataDirectory);
            return key switch
            {
                "wikitext2" => WikiText2(Path.Combine(root, "wikitext2", "test.jsonl")),
                "ptb" => Ptb("ptb", Path.Combine(root, "ptb", "ptb.test.txt")),
                "ptb-valid" => Ptb("ptb-valid", Path.Combine(root, "ptb", "ptb.valid.txt")),
                _ => C4(Path.Combine(root, "c4", "c4-eval-excerpt.jsonl")),
            };
        }
        if (nameOrPath.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            return new PerplexityCorpus(Path.GetFileNameWithoutExtension(nameOrPath), string.Join("\n\n", JsonLines.ReadStrings(nameOrPath, "text")), nameOrPath);
        if (nameOrPath.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(nameOrPath)) throw new ModelFormatException(nameOrPath, "file not found");
            return new PerplexityCorpus(Path.GetFileNameWithoutExtension(nameOrPath), File.ReadAllText(nameOrPath), nameOrPath);
        }
        throw new QllmException($"--ppl: unknown data set '{nameOrPath}' (use {string.Join(", ", Names)}, or a .txt or .jsonl file).");
    }

    private static PerplexityCorpus WikiText2(string path) =>
        new("wikitext2", string.Join("\n\n", JsonLines.ReadStrings(path, "text")), path);

    private static PerplexityCorpus Ptb(string name, string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        return new PerplexityCorpus(name, string.Join(" ", File.ReadLines(path).Select(line => line.Trim())), path);
    }

    private static PerplexityCorpus C4(string path)
    {
        var documents = new List<string>();
        int number = 0;
        foreach (var record in JsonLines.Read(path))
        {
            number++;
            if (documents.Count == 1100) break;
            documents.Add(Field(record, "prefix", path, number) + Field(record, "gold_completion", path, number));
        }
        return new PerplexityCorpus("c4", string.Join(" ", documents), path, MaxWindows: 256);
    }

    private static string Field(JsonElement record, string name, string path, int number) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new ModelFormatException(path, $"record {number}: no string field '{name}'");
}
