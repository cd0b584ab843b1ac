using System.Globalization;
using System.Text.Json.Nodes;
using Qllm.Analysis;
using Qllm.Formats.Llama2c;
using Qllm.Quantization;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

/// <summary>--analyze-stats and --layerwise-distance through the real command, on stories260K with 2 windows of 64 tokens.</summary>
public class AnalysisCommandTests
{
    /// <summary>
    /// Two analysis windows of 64 tokens, and one perplexity window, from a short text written into the folder:
    /// tokenizing the C4 excerpt or WikiText-2 would take most of the test's time.
    /// </summary>
    private static string[] Tiny(TempFolder folder)
    {
        string text = folder.File("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("Once upon a time, a little girl named Lily found a shiny red ball in the park. She was very happy.\n", 8)));
        return ["--calib", text, "--nsamples", "2", "--calib-seqlen", "64", "--ppl", text, "--seqlen", "64", "--limit", "1"];
    }

    private static CliProcess.Result Eval(TempFolder folder, params string[] args) =>
        CliProcess.Run(["eval", "--model", SharedModels.Stories260KFolder, .. Tiny(folder), .. args]);

    /// <summary>The CSV as rows of column → cell (no field of ours needs quoting).</summary>
    private static List<Dictionary<string, string>> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        Assert.DoesNotContain(lines, line => line.Contains('"'));
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(line => header.Zip(line.Split(','), (h, c) => (h, c)).ToDictionary(p => p.h, p => p.c)).ToList();
    }

    private static double Number(string cell) => double.Parse(cell, CultureInfo.InvariantCulture); // parses inf, -inf, nan too

    private static readonly string[] ErrorColumns = ["w_mse", "w_sqnr_db", "x_mse", "x_sqnr_db", "y_mse", "y_sqnr_db"];

    [Fact]
    public void W4A8StatsHaveOneDocumentedRowPerLayerWithFiniteValuesAndTheWeightSqnrOfAnIndependentComputation()
    {
        using var folder = new TempFolder();
        string csv = folder.File("stats.csv"), json = folder.File("results.json");
        var result = Eval(folder, "--wbits", "4", "--abits", "8", "--analyze-stats", csv, "--output", json);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("| layer", result.StdOut);
        Assert.Contains("mean of 35 layers", result.StdOut);

        Assert.Equal(LayerStatisticsReport.Columns, File.ReadLines(csv).First().Split(','));
        string readme = File.ReadAllText(Path.Combine(SharedData.RepositoryRoot, "README.md"));
        Assert.All(LayerStatisticsReport.Columns, column => Assert.Contains($"`{column}`", readme));

        var rows = ReadCsv(csv);
        var model = Llama2cCheckpoint.Load(SharedModels.Stories260KCheckpoint);
        Assert.Equal(model.BlockLinears().Select(s => s.Name), rows.Select(r => r["layer"]));
        Assert.All(rows, row =>
        {
            Assert.Equal("128", row["tokens"]);
            foreach (var column in LayerStatisticsReport.Columns.Skip(2)) Assert.True(double.IsFinite(Number(row[column])), $"{row["layer"]} {column} = {row[column]}");
        });

        // Weight SQNR of one layer, recomputed here: RTN w4 per-channel asym of the checkpoint's weight, Σw² / Σ(w − q)².
        var dense = (Qllm.Models.Layers.DenseLinear)model.Blocks[2].Linears[0].Layer;
        float[] q = (float[])dense.Weight.Clone();
        WeightQuantizer.FakeQuantize(q, dense.OutFeatures, dense.InFeatures, new QuantSpec(4, false));
        double signal = dense.Weight.Sum(w => (double)w * w), noise = dense.Weight.Select((w, i) => ((double)w - q[i]) * ((double)w - q[i])).Sum();
        var row2 = rows.Single(r => r["layer"] == "model.layers.2.self_attn.q_proj");
        Assert.Equal(10 * Math.Log10(signal / noise), Number(row2["w_sqnr_db"]), 1e-9);
        Assert.Equal(noise / dense.Weight.Length, Number(row2["w_mse"]), 1e-12);

        var analysis = JsonNode.Parse(File.ReadAllText(json))!["analysis"]!;
        Assert.Equal(2, analysis["windows"]!.GetValue<int>());
        Assert.Equal(64, analysis["seqlen"]!.GetValue<int>());
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void FullPrecisionGivesZeroErrorAndZeroDistance()
    {
        using var folder = new TempFolder();
        string csv = folder.File("stats.csv"), distance = folder.File("distance.csv");
        var result = Eval(folder, "--analyze-stats", csv, "--layerwise-distance", distance);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.All(ReadCsv(csv), row =>
        {
            foreach (var column in ErrorColumns) Assert.Equal(column.EndsWith("_db") ? "inf" : "0", row[column]);
        });
        var rows = ReadCsv(distance);
        Assert.Equal(LayerDistanceReport.Columns, File.ReadLines(distance).First().Split(','));
        Assert.Equal(36, rows.Count); // 5 blocks × 7 linears and the head
        Assert.All(rows, row =>
        {
            Assert.Equal("0", row["output_mse"]);
            Assert.Equal("inf", row["output_sqnr_db"]);
        });
    }

    [Fact]
    public void RunWritesTheDistanceAsJsonForPackedLayers()
    {
        using var folder = new TempFolder();
        string json = folder.File("distance.json");
        var result = CliProcess.Run(["run", "--model", SharedModels.Stories260KFolder, "--method", "rtn", "--wbits", "4", "--wgroup", "32",
            .. Tiny(folder), "--layerwise-distance", json]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("output SQNR dB", result.StdOut);
        var layers = JsonNode.Parse(File.ReadAllText(json))!.AsArray();
        Assert.Equal(36, layers.Count);
        // q/k/v of the first block read the embedding, the same in both models; every later input has drifted.
        Assert.All(layers.Take(3), layer => Assert.Equal("Infinity", layer!["input_sqnr_db"]!.ToString()));
        Assert.All(layers.Skip(3), layer => Assert.InRange(layer!["input_sqnr_db"]!.GetValue<double>(), 0, 60));
    }

    [Theory]
    [InlineData("--analyze-stats", "/no/such/folder/stats.csv")]
    [InlineData("--layerwise-distance", "/no/such/folder/distance.csv")]
    [InlineData("--layerwise-distance", "distance.txt")]
    [InlineData("--analyze-stats", "/tmp")]
    public void BadOutputPathsAreNamed(string option, string path)
    {
        using var folder = new TempFolder();
        var result = Eval(folder, "--wbits", "4", option, path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(option, result.StdErr);
        Assert.Contains(path, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }
}
