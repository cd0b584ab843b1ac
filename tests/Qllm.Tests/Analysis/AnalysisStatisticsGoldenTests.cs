using System.Text.Json.Nodes;
using Qllm.Analysis;
using Xunit;

namespace Qllm.Tests.Analysis;

/// <summary>
/// Golden values from tests/oracles/stats_oracle.py: the statistics of a small matrix with one outlier, computed in
/// float64 NumPy over the whole array and cross-checked there against qllm-infer's metric.py definitions in torch.
/// The C# side streams the values in chunks, so the chunk merge (Pébay's update) is what these tests exercise.
/// </summary>
public class AnalysisStatisticsGoldenTests
{
    private static readonly JsonObject Golden =
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "oracles", "stats_golden.json")))!.AsObject();

    private static float[] Floats(string key) => Golden[key]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
    private static double Value(string key) => Golden[key]!.GetValue<double>();

    /// <summary>Feeds the values in chunks of the given sizes, cycling (1 = one value at a time).</summary>
    private static RunningMoments Streamed(float[] values, params int[] chunks)
    {
        var moments = new RunningMoments();
        for (int at = 0, i = 0; at < values.Length; i++)
        {
            int size = Math.Min(chunks[i % chunks.Length], values.Length - at);
            moments.Add(values.AsSpan(at, size));
            at += size;
        }
        return moments;
    }

    [Theory]
    [InlineData(new[] { 42 })]          // the whole matrix at once
    [InlineData(new[] { 7 })]           // row by row, as a layer's input arrives token by token
    [InlineData(new[] { 1 })]           // value by value
    [InlineData(new[] { 5, 1, 13, 2 })] // uneven chunks
    public void MomentsMatchTheOracleHoweverTheStreamIsChunked(int[] chunks)
    {
        var moments = Streamed(Floats("values"), chunks);
        Assert.Equal(42, moments.Count);
        Assert.Equal(Value("min"), moments.Min);
        Assert.Equal(Value("max"), moments.Max);
        Assert.Equal(Value("absmax"), moments.AbsMax);
        Assert.Equal(Value("mean"), moments.Mean, 1e-14);
        Assert.Equal(Value("std"), moments.Std, 1e-13);
        Assert.Equal(Value("excess_kurtosis"), moments.ExcessKurtosis, 1e-11);
    }

    [Fact]
    public void StdAndKurtosisDoNotDependOnALargeOffset()
    {
        // Raw power sums (Σx, Σx², …) would lose every digit of the spread here; central moments keep them.
        float[] shifted = Floats("values").Select(v => v + 4096f).ToArray();
        var moments = Streamed(shifted, 5, 1, 13, 2);
        Assert.Equal(Value("mean") + 4096, moments.Mean, 1e-11);
        Assert.Equal(Value("std"), moments.Std, 1e-11);
        Assert.Equal(Value("excess_kurtosis"), moments.ExcessKurtosis, 1e-9);
    }

    [Fact]
    public void ErrorMatchesTheOracleAndDoesNotDependOnChunking()
    {
        float[] reference = Floats("values"), approximation = Floats("approximation");
        var whole = new QuantizationError();
        whole.Add(reference, approximation);
        var byRow = new QuantizationError();
        for (int r = 0; r < 6; r++) byRow.Add(reference.AsSpan(r * 7, 7), approximation.AsSpan(r * 7, 7));
        foreach (var error in new[] { whole, byRow })
        {
            Assert.Equal(Value("mse"), error.Mse, 1e-15);
            Assert.Equal(Value("sqnr_db"), error.SqnrDb, 1e-12);
        }
    }

    [Fact]
    public void AnExactApproximationHasZeroErrorAndInfiniteSqnr()
    {
        var error = new QuantizationError();
        error.Add(Floats("values"), Floats("values"));
        Assert.Equal(0, error.Mse);
        Assert.Equal(double.PositiveInfinity, error.SqnrDb);
    }

    [Fact]
    public void AConstantStreamHasZeroSpreadAndUndefinedKurtosis()
    {
        var moments = Streamed([3f, 3f, 3f, 3f], 3);
        Assert.Equal(3, moments.Mean);
        Assert.Equal(0, moments.Std);
        Assert.True(double.IsNaN(moments.ExcessKurtosis)); // 0/0, as the reference's kurtosis()
    }
}
