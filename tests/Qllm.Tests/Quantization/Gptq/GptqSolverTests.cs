using Qllm.Common;
using Qllm.Quantization;
using Qllm.Quantization.Gptq;
using Xunit;

namespace Qllm.Tests.Quantization.Gptq;

public class GptqSolverTests
{
    private const int Rows = 24, Columns = 64, Tokens = 512;

    private static GptqResult Solve(GptqOptions options, float[]? x = null, float[]? w = null) =>
        GptqSolver.Quantize(w ?? GptqProblems.Weight(Rows, Columns), Rows, Columns,
            GptqProblems.Hessian(x ?? GptqProblems.CorrelatedInputs(Tokens, Columns), Tokens, Columns), options);

    public static TheoryData<int, bool, int, bool, bool> Variants() => new()
    {
        { 4, false, -1, false, false }, { 3, true, -1, true, false }, { 3, false, 8, false, false },
        { 4, false, 8, true, false }, { 4, true, 8, true, true }, { 2, false, 16, false, true },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void CodesAreInRangeAndEveryValueIsOnItsGroupsGrid(int bits, bool sym, int group, bool actOrder, bool staticGroups)
    {
        var spec = new QuantSpec(bits, sym, group);
        var q = Solve(new GptqOptions(spec, BlockSize: 16, ActOrder: actOrder, StaticGroups: staticGroups)).Quantized;
        Assert.Equal(actOrder, q.GroupIndex is not null);
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
            {
                int code = q.Codes[r * Columns + c], g = r * q.Groups + q.GroupOf(c);
                Assert.InRange(code, 0, spec.MaxQ);
                Assert.Equal(MathF.Round(q.Zeros[g]), q.Zeros[g]);
                Assert.Equal(new QuantGrid(q.Scales[g], q.Zeros[g], spec.MaxQ).Dequantize(code), q.Dequantize()[r * Columns + c]);
            }
    }

    [Theory]
    [InlineData(4, -1, false)]
    [InlineData(3, -1, false)]
    [InlineData(4, 8, false)]
    [InlineData(3, 8, false)]
    [InlineData(3, 8, true)]
    [InlineData(3, -1, true)]
    public void BeatsRoundToNearestOnTheCalibrationObjective(int bits, int group, bool actOrder)
    {
        var spec = new QuantSpec(bits, false, group);
        var x = GptqProblems.CorrelatedInputs(Tokens, Columns);
        var w = GptqProblems.Weight(Rows, Columns);
        var h = GptqProblems.Hessian(x, Tokens, Columns);
        var gptq = GptqSolver.Quantize(w, Rows, Columns, h, new GptqOptions(spec, BlockSize: 16, ActOrder: actOrder));
        var rtn = (float[])w.Clone();
        WeightQuantizer.FakeQuantize(rtn, Rows, Columns, spec);
        var hessian = h.CopyMatrix();
        double gptqLoss = GptqProblems.ProxyLoss(w, gptq.Dequantized, hessian, Rows, Columns);
        double rtnLoss = GptqProblems.ProxyLoss(w, rtn, hessian, Rows, Columns);
        Assert.True(gptqLoss < 0.8 * rtnLoss, $"{spec.Describe()}: GPTQ {gptqLoss} vs RTN {rtnLoss}");
    }

    [Fact]
    public void ActOrderWithStaticGroupsKeepsTheContiguousGroupIndex()
    {
        var q = Solve(new GptqOptions(new QuantSpec(4, false, 8), ActOrder: true, StaticGroups: true)).Quantized;
        Assert.Equal(Enumerable.Range(0, Columns).Select(c => c / 8), q.GroupIndex!);
    }

    [Fact]
    public void ActOrderWithDynamicGroupsGroupsColumnsByDecreasingHessianDiagonal()
    {
        var x = GptqProblems.CorrelatedInputs(Tokens, Columns);
        var q = Solve(new GptqOptions(new QuantSpec(4, false, 8), ActOrder: true), x).Quantized;
        var h = GptqProblems.Hessian(x, Tokens, Columns).CopyMatrix();
        var order = Enumerable.Range(0, Columns).OrderByDescending(c => h[c * Columns + c]).ToArray();
        for (int p = 0; p < Columns; p++) Assert.Equal(p / 8, q.GroupIndex![order[p]]);
        Assert.All(q.GroupIndex!.GroupBy(g => g), g => Assert.Equal(8, g.Count()));
        Assert.NotEqual(Enumerable.Range(0, Columns).Select(c => c / 8), q.GroupIndex!); // the scales grow with c, so the order is not trivial
    }

    [Fact]
    public void ADeadInputColumnGetsZeroWeight()
    {
        var x = GptqProblems.CorrelatedInputs(Tokens, Columns);
        for (int t = 0; t < Tokens; t++) x[t * Columns + 5] = 0;
        var result = Solve(new GptqOptions(new QuantSpec(4, false, 8), ActOrder: true), x);
        for (int r = 0; r < Rows; r++) Assert.Equal(0f, result.Dequantized[r * Columns + 5]);
    }

    [Fact]
    public void LeavesTheSharedAccumulatorUnchanged()
    {
        var h = GptqProblems.Hessian(GptqProblems.CorrelatedInputs(Tokens, Columns), Tokens, Columns);
        var before = h.CopyMatrix();
        GptqSolver.Quantize(GptqProblems.Weight(Rows, Columns), Rows, Columns, h, new GptqOptions(new QuantSpec(4, false), ActOrder: true));
        Assert.Equal(before, h.CopyMatrix());
    }

    [Fact]
    public void ASingularHessianWithTinyDampingStaysFinite()
    {
        const int tokens = 16; // fewer tokens than columns: H has rank 16 of 64
        var x = GptqProblems.CorrelatedInputs(tokens, Columns);
        var result = GptqSolver.Quantize(GptqProblems.Weight(Rows, Columns), Rows, Columns, GptqProblems.Hessian(x, tokens, Columns),
            new GptqOptions(new QuantSpec(3, false, 8), PercDamp: 1e-9, ActOrder: true));
        Assert.All(result.Dequantized, v => Assert.True(float.IsFinite(v)));
        Assert.True(double.IsFinite(result.Loss));
    }

    [Fact]
    public void NonFiniteCalibrationInputsAreRejected()
    {
        var x = GptqProblems.CorrelatedInputs(Tokens, Columns);
        x[3 * Columns + 2] = float.NaN;
        var error = Assert.Throws<QllmException>(() => Solve(new GptqOptions(new QuantSpec(4, false)), x));
        Assert.Contains("non-finite", error.Message);
    }

    [Fact]
    public void AnEmptyHessianIsRejected() =>
        Assert.Throws<QllmException>(() => GptqSolver.Quantize(GptqProblems.Weight(Rows, Columns), Rows, Columns,
            new HessianAccumulator(Columns), new GptqOptions(new QuantSpec(4, false))));
}
