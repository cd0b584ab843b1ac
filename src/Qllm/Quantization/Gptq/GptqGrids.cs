using Qllm.Tensors;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// The grids GPTQ quantizes with, one per (row, group), and which group each processed column uses. The reference
/// finds them at three different moments, and this keeps its choices:
/// <list type="bullet">
/// <item>per channel: one grid per row, from the original W before dead columns are zeroed (find_params runs first);</item>
/// <item>static groups: every group's grid up front from W (dead columns zeroed, not permuted), so with act-order a
/// column keeps the grid of its original group and g_idx stays c / groupsize;</item>
/// <item>dynamic groups: when the processing position p reaches a multiple of groupsize, from the weights at
/// positions p .. p + groupsize as they then stand in the global W (the current block's in-block updates are not
/// there yet, exactly as the reference reads W rather than W1), so with act-order groups form in permuted order.</item>
/// </list>
/// </summary>
internal sealed class GptqGrids
{
    private readonly int _rows, _columns;
    private readonly QuantSpec _spec;
    private readonly bool _dynamic, _static;
    private readonly int[] _perm;

    public GptqGrids(int rows, int columns, QuantSpec spec, bool staticGroups, int[] perm)
    {
        _rows = rows;
        _columns = columns;
        _spec = spec;
        _perm = perm;
        _static = staticGroups && spec.GroupSize > 0;
        _dynamic = !_static && spec.GroupSize > 0;
        GroupSize = spec.GroupSize > 0 ? spec.GroupSize : columns;
        Groups = (columns + GroupSize - 1) / GroupSize;
        Scales = new float[rows * Groups];
        Zeros = new float[rows * Groups];
        GroupIndex = new int[columns];
        for (int p = 0; p < columns; p++) GroupIndex[perm[p]] = GroupAt(p);
    }

    public int GroupSize { get; }
    public int Groups { get; }
    public float[] Scales { get; }
    public float[] Zeros { get; }

    /// <summary>g_idx: the group of each original column.</summary>
    public int[] GroupIndex { get; }

    /// <summary>The group used by the column processed at position p.</summary>
    public int GroupAt(int p) => _static ? _perm[p] / GroupSize : _dynamic ? p / GroupSize : 0;

    public bool StartsDynamicGroup(int p) => _dynamic && p % GroupSize == 0;

    public QuantGrid Grid(int row, int group) => new(Scales[row * Groups + group], Zeros[row * Groups + group], _spec.MaxQ);

    /// <summary>Per-channel grids (no groups) or static group grids, from w [rows, columns] in original column order.</summary>
    public void FindUpFront(float[] w)
    {
        Compute.For(_rows, (long)_rows * _columns > 1 << 14, r =>
        {
            for (int g = 0; g < Groups; g++)
            {
                int start = g * GroupSize;
                Store(r, g, WeightQuantizer.FindGrid(w.AsSpan(r * _columns + start, Math.Min(GroupSize, _columns - start)), _spec));
            }
        });
    }

    /// <summary>Dynamic grids of the group starting at position p for rows [r0, r1), from wt [columns, rows] (permuted, transposed).</summary>
    public void FindDynamic(float[] wt, int p, int r0, int r1, float[] scratch)
    {
        int length = Math.Min(GroupSize, _columns - p), g = p / GroupSize;
        for (int r = r0; r < r1; r++)
        {
            for (int j = 0; j < length; j++) scratch[j] = wt[(p + j) * _rows + r];
            Store(r, g, WeightQuantizer.FindGrid(scratch.AsSpan(0, length), _spec));
        }
    }

    private void Store(int row, int group, QuantGrid grid)
    {
        Scales[row * Groups + group] = grid.Scale;
        Zeros[row * Groups + group] = grid.Zero;
    }
}
