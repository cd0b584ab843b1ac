using Qllm.Common;
using Qllm.Tensors;

namespace Qllm.Quantization.Packed;

/// <summary>
/// The in-memory layout of a <see cref="PackedLowBitLinear"/>: integer codes bit-packed along k in panels of
/// 32 output rows, so one pair of 512-bit loads carries 32/bits k-steps for all 32 rows.
/// <list type="bullet">
/// <item>Columns are first put in group order (a stable sort by g_idx, as exllama does for act-order), and each
/// group is padded to a whole number of <see cref="CodesPerWord"/> columns, so no word straddles two groups and
/// the kernels apply one scale and zero per group. <see cref="PaddedColumns"/> = Σ_g ⌈len_g / perWord⌉ · perWord;
/// padded codes are 0 and the kernels see zero activations there.</item>
/// <item>A block is 32 uint words (128 bytes): word i holds row i's codes for perWord consecutive k, code s at bits
/// [bits·s, bits·s + bits). Words 0..15 (rows 0..15) and 16..31 (rows 16..31) are each one zmm load; a right
/// shift by bits·s and a mask (or, in the AVX-512 GEMV, a rotate and a ternary-logic op) give 16 codes of one k-step. perWord = ⌊32 / bits⌋: 16 for 2-bit, 10 for 3-bit
/// (3.2 bits a weight: 2 bits of each word unused), 8 for 4-bit, 6 for 5-bit, 4 for 8-bit.</item>
/// <item>Scales and zeros are fp32 per (panel, group), 32 values each, the vectors the kernels load.</item>
/// <item>Per layer (not per row), when columns are reordered or padded: the permutation and a map from padded to
/// input columns (4 bytes a column each), counted in <see cref="StorageBytes"/>.</item>
/// </list>
/// </summary>
internal sealed class LowBitPanels
{
    public const int Width = PackedMatrix.PanelWidth;

    public int Rows { get; }
    public int Columns { get; }
    public QuantSpec Spec { get; }
    public int Bits => Spec.Bits;
    public int Groups { get; }
    public int CodesPerWord { get; }
    public int Panels => (Rows + Width - 1) / Width;
    public int Blocks => GroupBlocks[Groups];
    public int PaddedColumns => Blocks * CodesPerWord;

    /// <summary>Words of <see cref="Codes"/> one panel takes (its blocks × 32 rows): panel p starts at p · PanelWords.</summary>
    public long PanelWords => (long)Blocks * Width;

    /// <summary>[panel][block][32 words]; pinned, since kernels hold raw pointers into it.</summary>
    public uint[] Codes { get; }

    /// <summary>[panel][group][32 rows]; rows past <see cref="Rows"/> are 0.</summary>
    public float[] Scales { get; }
    public float[] Zeros { get; }

    /// <summary>First block of each group, plus the total: Groups + 1 entries.</summary>
    public int[] GroupBlocks { get; }

    /// <summary>First column of each group in group order, plus the total: Groups + 1 entries.</summary>
    public int[] GroupColumns { get; }

    /// <summary>Source column of each column in group order; null when that order is the identity (no act-order).</summary>
    public int[]? Order { get; }

    /// <summary>
    /// The input column of each of the <see cref="PaddedColumns"/> (−1 for padding), for prefill to gather while it
    /// packs activations; null when they are the input's columns as they are. Pinned.
    /// </summary>
    public int[]? SourceColumns { get; }

    /// <summary>Whether the weight came with an explicit g_idx, so <see cref="ToQuantizedWeight"/> gives one back.</summary>
    public bool HasGroupIndex { get; }

    public long StorageBytes =>
        4L * (Codes.Length + Scales.Length + Zeros.Length + GroupBlocks.Length + GroupColumns.Length + (Order?.Length ?? 0) + (SourceColumns?.Length ?? 0));

    /// <summary>
    /// Reads the fields and tables a decode GEMV reads before the codes (see <see cref="Models.Layers.ILinear.WarmMetadata"/>);
    /// the result only keeps the reads from being optimized away.
    /// </summary>
    public int WarmMetadata() =>
        Rows + GroupBlocks[0] + GroupColumns[0] + (Order?[0] ?? 0) + Codes.Length + Scales.Length + Zeros.Length;

    /// <summary>
    /// True when a GEMV input gathered (and sliced) for this layout serves <paramref name="other"/> too: the same bits,
    /// columns and groups, in input order. q/k/v, and gate/up, of a model quantized without act-order share one.
    /// </summary>
    public bool SharesInputLayout(LowBitPanels other) =>
        ReferenceEquals(this, other) || (Order == null && other.Order == null && Bits == other.Bits && Columns == other.Columns
            && GroupColumns.AsSpan().SequenceEqual(other.GroupColumns));

    public LowBitPanels(QuantizedWeight weight)
    {
        if (weight.Spec.Bits is < 2 or > 8) throw new QllmException($"packed layers hold 2- to 8-bit codes, not {weight.Spec.Bits}-bit.");
        if (weight.Codes.Length != (long)weight.Rows * weight.Columns || weight.Scales.Length != (long)weight.Rows * weight.Groups || weight.Zeros.Length != weight.Scales.Length)
            throw new ArgumentException("quantized weight arrays do not match its shape.");
        Rows = weight.Rows;
        Columns = weight.Columns;
        Spec = weight.Spec;
        Groups = weight.Groups;
        CodesPerWord = 32 / weight.Spec.Bits;
        HasGroupIndex = weight.GroupIndex != null;
        (GroupColumns, Order) = GroupOrder(weight);
        GroupBlocks = new int[Groups + 1];
        for (int g = 0; g < Groups; g++)
            GroupBlocks[g + 1] = GroupBlocks[g] + (GroupColumns[g + 1] - GroupColumns[g] + CodesPerWord - 1) / CodesPerWord;
        long words = (long)Panels * Blocks * Width, vectors = (long)Panels * Groups * Width;
        if (words > Array.MaxLength || vectors > Array.MaxLength) throw new QllmException($"a {Rows}×{Columns} weight is too large for one packed array.");
        Codes = GC.AllocateArray<uint>((int)words, pinned: true);
        Scales = GC.AllocateArray<float>((int)vectors, pinned: true);
        Zeros = GC.AllocateArray<float>((int)vectors, pinned: true);
        PackCodes(weight);
        if (Order != null || PaddedColumns != Columns) SourceColumns = MapColumns();
        for (int r = 0; r < Rows; r++)
            for (int g = 0; g < Groups; g++)
            {
                int at = VectorIndex(r, g);
                Scales[at] = weight.Scales[r * Groups + g];
                Zeros[at] = weight.Zeros[r * Groups + g];
            }
    }

    private int[] MapColumns()
    {
        var map = GC.AllocateArray<int>(PaddedColumns, pinned: true);
        Array.Fill(map, -1);
        for (int g = 0; g < Groups; g++)
            for (int j = GroupColumns[g]; j < GroupColumns[g + 1]; j++) map[GroupBlocks[g] * CodesPerWord + j - GroupColumns[g]] = Order?[j] ?? j;
        return map;
    }

    private int VectorIndex(int row, int group) => ((row / Width) * Groups + group) * Width + row % Width;

    /// <summary>Word holding code (row, position in group order) and the code's shift in it.</summary>
    private (long Word, int Shift) Locate(int row, int group, int offsetInGroup)
    {
        int block = GroupBlocks[group] + offsetInGroup / CodesPerWord;
        return (((long)(row / Width) * Blocks + block) * Width + row % Width, Bits * (offsetInGroup % CodesPerWord));
    }

    private void PackCodes(QuantizedWeight weight)
    {
        int maxQ = Spec.MaxQ;
        for (int r = 0; r < Rows; r++)
            for (int g = 0; g < Groups; g++)
                for (int j = GroupColumns[g]; j < GroupColumns[g + 1]; j++)
                {
                    int code = weight.Codes[(long)r * Columns + (Order?[j] ?? j)];
                    if (code > maxQ) throw new ArgumentException($"code {code} at row {r} does not fit in {Bits} bits.");
                    var (word, shift) = Locate(r, g, j - GroupColumns[g]);
                    Codes[word] |= (uint)code << shift;
                }
    }

    /// <summary>Group boundaries in group order, and the stable sort of columns by group (null if already sorted).</summary>
    private static (int[] Starts, int[]? Order) GroupOrder(QuantizedWeight weight)
    {
        int groups = weight.Groups;
        var starts = new int[groups + 1];
        for (int c = 0; c < weight.Columns; c++)
        {
            int g = weight.GroupOf(c);
            if ((uint)g >= (uint)groups) throw new ArgumentException($"g_idx of column {c} is {g}, outside 0..{groups - 1}.");
            starts[g + 1]++;
        }
        for (int g = 0; g < groups; g++) starts[g + 1] += starts[g];
        var next = starts[..groups];
        var order = new int[weight.Columns];
        bool identity = true;
        for (int c = 0; c < weight.Columns; c++)
        {
            int at = next[weight.GroupOf(c)]++;
            order[at] = c;
            identity &= at == c;
        }
        return (starts, identity ? null : order);
    }

    /// <summary>The codes, scales, zeros and g_idx back in <see cref="QuantizedWeight"/>'s layout, exactly as given.</summary>
    public QuantizedWeight ToQuantizedWeight()
    {
        var codes = new byte[(long)Rows * Columns];
        var scales = new float[Rows * Groups];
        var zeros = new float[Rows * Groups];
        uint mask = (uint)Spec.MaxQ;
        for (int r = 0; r < Rows; r++)
            for (int g = 0; g < Groups; g++)
            {
                scales[r * Groups + g] = Scales[VectorIndex(r, g)];
                zeros[r * Groups + g] = Zeros[VectorIndex(r, g)];
                for (int j = GroupColumns[g]; j < GroupColumns[g + 1]; j++)
                {
                    var (word, shift) = Locate(r, g, j - GroupColumns[g]);
                    codes[(long)r * Columns + (Order?[j] ?? j)] = (byte)((Codes[word] >> shift) & mask);
                }
            }
        int[]? groupIndex = null;
        if (HasGroupIndex)
        {
            groupIndex = new int[Columns];
            for (int g = 0; g < Groups; g++)
                for (int j = GroupColumns[g]; j < GroupColumns[g + 1]; j++) groupIndex[Order?[j] ?? j] = g;
        }
        return new QuantizedWeight(Rows, Columns, Spec, codes, scales, zeros, groupIndex);
    }
}
