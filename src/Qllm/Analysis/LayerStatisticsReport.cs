using Qllm.Reporting;

namespace Qllm.Analysis;

/// <summary>
/// The <c>--analyze-stats</c> CSV, one row per linear layer in execution order (the LM head last, only when it
/// was quantized), and the summary table printed on stdout. Columns:
/// <list type="table">
/// <item><term>layer</term><description>slot name, e.g. layers.0.self_attn.q_proj, or lm_head.</description></item>
/// <item><term>kind</term><description>the layer as quantized, e.g. "fake-quant w4 g32 asym + a8 per-token asym".</description></item>
/// <item><term>out_features, in_features</term><description>the weight's shape [out, in].</description></item>
/// <item><term>w_min, w_max, w_absmax, w_mean</term><description>over every element of the full-precision weight.</description></item>
/// <item><term>w_std</term><description>sample standard deviation (divides by n − 1, as torch.std).</description></item>
/// <item><term>w_kurtosis</term><description>excess kurtosis m₄/m₂² − 3 with population moments (0 for a Gaussian), as the reference's metric.kurtosis.</description></item>
/// <item><term>tokens</term><description>input rows the layer saw over all analysis windows (windows × window length).</description></item>
/// <item><term>x_min … x_kurtosis</term><description>the same statistics of the layer's input, over all its elements in all windows,
/// before activation quantization.</description></item>
/// <item><term>w_mse, w_sqnr_db</term><description>full-precision against effective (dequantized) quantized weight.</description></item>
/// <item><term>x_mse, x_sqnr_db</term><description>input against its quantized version; 0 and inf when activations are not quantized.</description></item>
/// <item><term>y_mse, y_sqnr_db</term><description>the full-precision layer's output against the quantized layer's, on the same input.</description></item>
/// </list>
/// MSE = Σ (ref − q)² / n; SQNR = 10·log10(Σ ref² / Σ (ref − q)²) dB, "inf" when the error is exactly zero.
/// Non-finite values are written inf, -inf, nan (see <see cref="CsvTable"/>).
/// </summary>
public static class LayerStatisticsReport
{
    public static readonly IReadOnlyList<string> Columns =
    [
        "layer", "kind", "out_features", "in_features",
        "w_min", "w_max", "w_absmax", "w_mean", "w_std", "w_kurtosis",
        "tokens", "x_min", "x_max", "x_absmax", "x_mean", "x_std", "x_kurtosis",
        "w_mse", "w_sqnr_db", "x_mse", "x_sqnr_db", "y_mse", "y_sqnr_db",
    ];

    public static CsvTable ToCsv(IReadOnlyList<LayerStatistics> layers)
    {
        var table = new CsvTable([.. Columns]);
        foreach (var l in layers)
            table.AddRow(l.Name, l.Kind, l.OutFeatures, l.InFeatures,
                l.Weight.Min, l.Weight.Max, l.Weight.AbsMax, l.Weight.Mean, l.Weight.Std, l.Weight.ExcessKurtosis,
                l.Activation.Count / l.InFeatures, l.Activation.Min, l.Activation.Max, l.Activation.AbsMax, l.Activation.Mean, l.Activation.Std, l.Activation.ExcessKurtosis,
                l.WeightError.Mse, l.WeightError.SqnrDb, l.ActivationError.Mse, l.ActivationError.SqnrDb, l.OutputError.Mse, l.OutputError.SqnrDb);
        return table;
    }

    /// <summary>
    /// The <paramref name="worst"/> layers with the lowest output SQNR, worst first, and the arithmetic mean over all
    /// layers (of the dB values, as the reference averages its statistics; inf when any layer is exact).
    /// </summary>
    public static MarkdownTable Summary(IReadOnlyList<LayerStatistics> layers, int worst = 10)
    {
        var table = new MarkdownTable("layer", "shape", "w SQNR dB", "x SQNR dB", "y SQNR dB", "y MSE", "x absmax", "x kurtosis", "w kurtosis");
        foreach (var l in layers.OrderBy(l => l.OutputError.SqnrDb).Take(worst))
            table.AddRow(l.Name, ReportCells.Shape(l.OutFeatures, l.InFeatures), ReportCells.Db(l.WeightError.SqnrDb), ReportCells.Db(l.ActivationError.SqnrDb),
                ReportCells.Db(l.OutputError.SqnrDb), ReportCells.Value(l.OutputError.Mse), ReportCells.Value(l.Activation.AbsMax),
                ReportCells.Value(l.Activation.ExcessKurtosis), ReportCells.Value(l.Weight.ExcessKurtosis));
        table.AddRow($"mean of {layers.Count} layers", "",
            ReportCells.Db(layers.Select(l => l.WeightError.SqnrDb).Average()), ReportCells.Db(layers.Select(l => l.ActivationError.SqnrDb).Average()),
            ReportCells.Db(layers.Select(l => l.OutputError.SqnrDb).Average()), ReportCells.Value(layers.Select(l => l.OutputError.Mse).Average()),
            ReportCells.Value(layers.Select(l => l.Activation.AbsMax).Average()), ReportCells.Value(layers.Select(l => l.Activation.ExcessKurtosis).Average()),
            ReportCells.Value(layers.Select(l => l.Weight.ExcessKurtosis).Average()));
        return table;
    }
}
