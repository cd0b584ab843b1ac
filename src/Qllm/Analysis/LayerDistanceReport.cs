using System.Text.Json.Nodes;
using Qllm.Reporting;

namespace Qllm.Analysis;

/// <summary>
/// The <c>--layerwise-distance</c> report, one row per linear layer in execution order, the LM head last. Columns
/// (CSV; the JSON file has one object per layer with the same keys):
/// <list type="table">
/// <item><term>layer, out_features, in_features</term><description>slot name and weight shape.</description></item>
/// <item><term>tokens</term><description>input rows compared (windows × window length).</description></item>
/// <item><term>input_mse, input_sqnr_db</term><description>the layer's input in the quantized model against the full-precision model's
/// (qllm-infer's get_layerwise_distance measure): the error accumulated by every earlier layer.</description></item>
/// <item><term>output_mse, output_sqnr_db</term><description>the layer's output in the quantized model against the full-precision model's:
/// the accumulated error plus this layer's own.</description></item>
/// </list>
/// MSE and SQNR as in <see cref="QuantizationError"/>; an exact layer has SQNR inf (CSV) or "Infinity" (JSON).
/// </summary>
public static class LayerDistanceReport
{
    public static readonly IReadOnlyList<string> Columns =
        ["layer", "out_features", "in_features", "tokens", "input_mse", "input_sqnr_db", "output_mse", "output_sqnr_db"];

    private static object[] Cells(LayerDistance l) =>
        [l.Name, l.OutFeatures, l.InFeatures, l.Input.Count / l.InFeatures, l.Input.Mse, l.Input.SqnrDb, l.Output.Mse, l.Output.SqnrDb];

    public static CsvTable ToCsv(IReadOnlyList<LayerDistance> layers)
    {
        var table = new CsvTable([.. Columns]);
        foreach (var layer in layers) table.AddRow(Cells(layer));
        return table;
    }

    public static JsonArray ToJson(IReadOnlyList<LayerDistance> layers) => new(layers.Select(layer =>
    {
        var row = new JsonObject();
        var cells = Cells(layer);
        for (int i = 0; i < Columns.Count; i++)
            row[Columns[i]] = cells[i] switch
            {
                string text => JsonValue.Create(text),
                int count => JsonValue.Create(count),
                long count => JsonValue.Create(count),
                double value => JsonValue.Create(value),
                var other => throw new InvalidOperationException($"no JSON form for {other.GetType().Name}"),
            };
        return (JsonNode?)row;
    }).ToArray());

    public static MarkdownTable Table(IReadOnlyList<LayerDistance> layers)
    {
        var table = new MarkdownTable("layer", "shape", "input MSE", "input SQNR dB", "output MSE", "output SQNR dB");
        foreach (var l in layers)
            table.AddRow(l.Name, ReportCells.Shape(l.OutFeatures, l.InFeatures), ReportCells.Value(l.Input.Mse), ReportCells.Db(l.Input.SqnrDb),
                ReportCells.Value(l.Output.Mse), ReportCells.Db(l.Output.SqnrDb));
        return table;
    }
}
