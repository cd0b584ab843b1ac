using Qllm.Common;

namespace Qllm.Tensors;

/// <summary>
/// A weight matrix W [rows = out features, columns = in features] re-laid out once for the GEMM kernels:
/// panels of <see cref="PanelWidth"/> consecutive rows, each stored column by column, so that for every k
/// the 32 weights W[panel·32 .. panel·32+31, k] are 128 contiguous bytes (two zmm loads). Both the
/// prefill micro-kernel and the decode GEMV stream a panel front to back. The last panel is zero-padded.
/// Values are fp32, or bf16 (the upper half of the fp32 bits) to halve the bytes decode must read. In bf16
/// panels the 32 values of each k are interleaved, row i beside row 16 + i: read as 16 32-bit words, a shift
/// left by 16 gives rows 0..15 as fp32 and a mask of the high half gives rows 16..31, with no widening shuffle.
/// </summary>
public sealed class PackedMatrix
{
    public const int PanelWidth = 32;

    public int Rows { get; }
    public int Columns { get; }
    public bool IsBf16 { get; }
    public int Panels => (Rows + PanelWidth - 1) / PanelWidth;

    internal float[]? F32 { get; }
    internal ushort[]? Bf16 { get; }

    public long StorageBytes => F32 != null ? 4L * F32.Length : 2L * Bf16!.Length;

    /// <summary>Reads the fields and the panel array's header, for <c>ILinear.WarmMetadata</c>; the sum only keeps the reads.</summary>
    public int WarmMetadata() => Rows + (F32?.Length ?? Bf16!.Length);

    /// <summary>The panels' one array (pinned at packing).</summary>
    public IEnumerable<Array> PinnedStorage => [F32 != null ? F32 : Bf16!];

    private PackedMatrix(int rows, int columns, float[]? f32, ushort[]? bf16)
    {
        Rows = rows;
        Columns = columns;
        F32 = f32;
        Bf16 = bf16;
        IsBf16 = bf16 != null;
    }

    public static PackedMatrix Pack(ReadOnlySpan<float> weight, int rows, int columns, bool bf16 = false)
    {
        if (weight.Length != (long)rows * columns) throw new ArgumentException($"weight has {weight.Length} values, expected {rows}×{columns}.");
        long size = (long)(rows + PanelWidth - 1) / PanelWidth * PanelWidth * columns;
        if (size > Array.MaxLength) throw new QllmException($"a {rows}×{columns} weight is too large for one packed array.");
        // Pinned: kernels hold raw pointers into the panels across calls.
        var f32 = GC.AllocateUninitializedArray<float>((int)size, pinned: !bf16);
        Array.Clear(f32);
        for (int r = 0; r < rows; r++)
        {
            int panel = r / PanelWidth, lane = r % PanelWidth;
            long baseOffset = (long)panel * columns * PanelWidth + lane;
            var row = weight.Slice(r * columns, columns);
            for (int k = 0; k < columns; k++) f32[baseOffset + (long)k * PanelWidth] = row[k];
        }
        if (!bf16) return new PackedMatrix(rows, columns, f32, null);
        var halves = GC.AllocateUninitializedArray<ushort>((int)size, pinned: true);
        for (long group = 0; group < size; group += PanelWidth)
            for (int lane = 0; lane < PanelWidth; lane++)
                halves[group + Bf16Slot(lane)] = ToBf16(f32[group + lane]);
        return new PackedMatrix(rows, columns, null, halves);
    }

    /// <summary>fp32 → bf16 with round-to-nearest-even, as torch.Tensor.to(torch.bfloat16).</summary>
    public static ushort ToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float FromBf16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>Where row <paramref name="lane"/> (0..31) of a k-group sits in a bf16 panel: rows i and 16 + i share a 32-bit word.</summary>
    public static int Bf16Slot(int lane) => lane < 16 ? 2 * lane : 2 * (lane - 16) + 1;

    /// <summary>The weight as stored (bf16 values widened), back in row-major [rows, columns] order.</summary>
    public float[] Unpack()
    {
        var result = new float[Rows * Columns];
        for (int r = 0; r < Rows; r++)
        {
            long baseOffset = (long)(r / PanelWidth) * Columns * PanelWidth + r % PanelWidth;
            for (int k = 0; k < Columns; k++)
            {
                long at = baseOffset + (long)k * PanelWidth;
                result[r * Columns + k] = F32 != null ? F32[at] : FromBf16(Bf16![at - r % PanelWidth + Bf16Slot(r % PanelWidth)]);
            }
        }
        return result;
    }
}
