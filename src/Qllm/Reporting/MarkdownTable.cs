using System.Text;

namespace Qllm.Reporting;

/// <summary>A GitHub-flavoured Markdown table, columns padded so it also reads well as plain text.</summary>
public sealed class MarkdownTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public MarkdownTable AddRow(params object?[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"row has {cells.Length} cells, table has {headers.Length} columns.");
        _rows.Add(cells.Select(c => (c?.ToString() ?? "").Replace("|", "\\|")).ToArray());
        return this;
    }

    public override string ToString()
    {
        int[] widths = headers.Select((h, i) => Math.Max(3, _rows.Select(r => r[i].Length).Append(h.Length).Max())).ToArray();
        var text = new StringBuilder();
        void Line(IEnumerable<string> cells) => text.Append("| ").AppendJoin(" | ", cells).Append(" |\n");
        Line(headers.Select((h, i) => h.PadRight(widths[i])));
        Line(widths.Select(w => new string('-', w)));
        foreach (var row in _rows) Line(row.Select((c, i) => c.PadRight(widths[i])));
        return text.ToString();
    }
}
