using Qllm.Tensors.Kernels;

namespace Qllm.Tensors;

/// <summary>
/// An 8-bit weight W [rows = out features n, columns = in features k] laid out once for the int8 tile
/// (<see cref="Int8Kernel"/>): panels of 32 output channels, each a run of k-groups of 128 bytes (channel j's
/// 4 consecutive k at 4j). Codes c ∈ [0, 255] with one scale s[n] and integer zero point z[n] per channel
/// (w = s·(c − z)) are stored as signed bytes c − 128, what vpdpbusd multiplies; k is padded to a multiple of 4
/// and the last panel to 32 channels with zero bytes, which add nothing.
/// </summary>
/// <remarks>
/// Pack time also keeps, per channel, Σ_k (c − 128) and 128 − z: the terms that turn the kernel's Σ a·(c − 128) into
/// the exact Σ (a − z_a)·(c − z) (see <see cref="Int8Gemm"/>), so nothing per channel is recomputed per call.
/// </remarks>
public sealed class Int8Panels
{
    /// <summary>Largest k for which every Σ_k (a − z_a)(c − z), each term at most 255², fits in int32.</summary>
    public const int MaxColumns = int.MaxValue / (255 * 255);

    public int Rows { get; }
    public int Columns { get; }
    public int KGroups => (Columns + Int8Kernel.KGroup - 1) / Int8Kernel.KGroup;
    public int Panels => (Rows + Int8Kernel.Columns - 1) / Int8Kernel.Columns;

    /// <summary>Panels × k-groups × 128 bytes; pinned, as kernels keep raw pointers into it.</summary>
    internal sbyte[] Data { get; }

    /// <summary>Per channel (padded to whole panels): Σ_k (c − 128).</summary>
    internal int[] CodeSums { get; }

    /// <summary>Per channel (padded): 128 − z, zero for a symmetric grid.</summary>
    internal int[] ZeroOffsets { get; }

    /// <summary>Per channel (padded): the scale s.</summary>
    internal float[] Scales { get; }

    public long StorageBytes => Data.LongLength + 12L * Scales.Length;

    /// <param name="codes">Row-major [rows, columns], each in 0..255.</param>
    /// <param name="scales">Per channel.</param>
    /// <param name="zeros">Per channel, integral values in 0..255.</param>
    public Int8Panels(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, ReadOnlySpan<float> zeros, int rows, int columns)
    {
        if (codes.Length != (long)rows * columns || scales.Length != rows || zeros.Length != rows)
            throw new ArgumentException($"int8 weight: expected {rows}×{columns} codes and {rows} scales and zeros.");
        if (columns is < 1 or > MaxColumns) throw new ArgumentException($"int8 weight: {columns} input features; 1..{MaxColumns} fit the int32 accumulators.");
        Rows = rows;
        Columns = columns;
        int padded = Panels * Int8Kernel.Columns;
        Data = GC.AllocateArray<sbyte>(Panels * KGroups * Int8Kernel.Columns * Int8Kernel.KGroup, pinned: true);
        CodeSums = new int[padded];
        ZeroOffsets = new int[padded];
        Scales = new float[padded];
        for (int n = 0; n < rows; n++)
        {
            float zero = zeros[n];
            if (zero != MathF.Round(zero) || zero is < 0 or > 255) throw new ArgumentException($"int8 weight: zero point {zero} of channel {n} is not an integer in 0..255.");
            ZeroOffsets[n] = 128 - (int)zero;
            Scales[n] = scales[n];
            long panelStart = (long)(n / Int8Kernel.Columns) * KGroups * 128 + n % Int8Kernel.Columns * Int8Kernel.KGroup;
            var row = codes.Slice(n * columns, columns);
            int sum = 0;
            for (int k = 0; k < columns; k++)
            {
                int value = row[k] - 128;
                sum += value;
                Data[panelStart + k / 4 * 128 + k % 4] = (sbyte)value;
            }
            CodeSums[n] = sum;
        }
    }
}
