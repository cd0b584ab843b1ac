using System.Text;
using Qllm.Common;

namespace Qllm.Evaluation.Tasks;

/// <summary>One CSV record: its fields and the line on which it starts.</summary>
public sealed record CsvRecord(string Path, int Line, string[] Fields)
{
    public ModelFormatException Error(string detail) => new(Path, $"line {Line}: {detail}");

    public int Int(int column, string name) =>
        int.TryParse(Fields[column], out int value) ? value : throw Error($"{name} '{Fields[column]}' is not an integer");
}

/// <summary>
/// RFC 4180 CSV (quoted fields may hold commas, doubled quotes and line breaks), as the MMLU and StoryCloze
/// files are written. The header must be the expected one; each record must have as many fields.
/// </summary>
public static class CsvFile
{
    public static IEnumerable<CsvRecord> Read(string path, IReadOnlyList<string> header)
    {
        using var reader = new StreamReader(TaskFile.Require(path), Encoding.UTF8);
        var records = Parse(reader, path).GetEnumerator();
        if (!records.MoveNext() || !records.Current.Fields.SequenceEqual(header))
            throw new ModelFormatException(path, $"line 1: expected the header '{string.Join(",", header)}'");
        while (records.MoveNext())
        {
            var record = records.Current;
            if (record.Fields.Length == 1 && record.Fields[0].Length == 0) continue; // blank line
            if (record.Fields.Length != header.Count)
                throw record.Error($"{record.Fields.Length} fields, expected {header.Count}");
            yield return record;
        }
    }

    private static IEnumerable<CsvRecord> Parse(TextReader reader, string path)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, start = 1, c;
        bool quoted = false, any = false;
        while ((c = reader.Read()) >= 0)
        {
            any = true;
            if (quoted)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append((char)c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0: quoted = true; break;
                case ',': fields.Add(field.ToString()); field.Clear(); break;
                case '\r': break;
                case '\n':
                    fields.Add(field.ToString());
                    field.Clear();
                    yield return new CsvRecord(path, start, [.. fields]);
                    fields.Clear();
                    start = ++line;
                    any = false;
                    break;
                default: field.Append((char)c); break;
            }
        }
        if (quoted) throw new ModelFormatException(path, $"line {start}: a quoted field is not closed");
        if (any)
        {
            fields.Add(field.ToString());
            yield return new CsvRecord(path, start, [.. fields]);
        }
    }
}
