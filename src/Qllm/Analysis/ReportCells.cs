using System.Globalization;

namespace Qllm.Analysis;

/// <summary>How the analysis tables print their cells: dB with two decimals (inf for an exact layer), MSE with four digits.</summary>
internal static class ReportCells
{
    public static string Shape(int outFeatures, int inFeatures) => $"{outFeatures}×{inFeatures}";

    public static string Db(double value) => double.IsPositiveInfinity(value) ? "inf" : value.ToString("F2", CultureInfo.InvariantCulture);

    public static string Value(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

}
