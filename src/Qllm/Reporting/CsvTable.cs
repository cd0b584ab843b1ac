using System.Globalization;
using System.Text;

namespace Qllm.Reporting;

/// <summary>
/// A comma-separated table (RFC 4180: a header line, fields quoted only when they hold a comma, quote or line
/// break). Numbers are written in the invariant culture with round-trip precision, and non-finite values as
/// <c>inf</c>, <c>-inf</c> and <c>nan</c>, which Python's float(), NumPy and pandas.read_csv all parse.
/// </summary>
public sealed class CsvTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public CsvTable AddRow(params object?[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"row has {cells.Length} cells, table has {headers.Length} columns.");
        _rows.Add(cells.Select(Format).ToArray());
        return this;
    }

    public static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf" : double.IsNaN(value) ? "nan" : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Format(object? cell) => cell switch
    {
        null => "",
        double d => Number(d),
        float f => Number(f),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => Quote(cell.ToString() ?? ""),
    };

    private static string Quote(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendJoin(',', headers.Select(Quote)).Append('\n');
        foreach (var row in _rows) text.AppendJoin(',', row).Append('\n');
        return text.ToString();
    }
}
