using Qllm.Tensors.Kernels;

namespace Qllm.Quantization.Packed;

/// <summary>
/// A layer's decode input as its GEMV kernel reads it, in one thread's scratch buffer: the rows in the panels'
/// column order (<see cref="LowBitPanels.PaddedColumns"/> apart) with their group sums, and for the VNNI 4-bit
/// kernel (<see cref="LowBitGemv.UsesVnni"/>) the row's int8 slices and their σ's, else null.
/// </summary>
internal readonly unsafe struct PreparedInput
{
    public float* Rows { get; init; }
    public float* Sums { get; init; }
    public sbyte* Slices { get; init; }
    public float* Sigmas { get; init; }

    /// <summary>Scratch floats that <see cref="Prepare"/> fills for one layer.</summary>
    public static int Floats(LowBitPanels w, int rows, KernelPath path) =>
        rows * (w.PaddedColumns + w.Groups) + (LowBitGemv.UsesVnni(w, rows, path) ? SliceFloats(w) : 0);

    /// <summary>Gathers <paramref name="rows"/> input rows (the model's column order, w.Columns apart) into <paramref name="buffer"/>.</summary>
    public static PreparedInput Prepare(LowBitPanels w, float* input, int rows, KernelPath path, float* buffer)
    {
        int k = w.Columns, padded = w.PaddedColumns, groups = w.Groups;
        float* x = buffer, sums = x + rows * padded, next = sums + rows * groups;
        for (int r = 0; r < rows; r++)
            LowBitGather.Row(w, new ReadOnlySpan<float>(input + (long)r * k, k), new Span<float>(x + r * padded, padded), new Span<float>(sums + r * groups, groups));
        if (!LowBitGemv.UsesVnni(w, rows, path)) return new PreparedInput { Rows = x, Sums = sums };
        float* sigmas = next;
        var slices = (sbyte*)(next + 3 * groups);
        fixed (int* groupBlocks = w.GroupBlocks) LowBit4VnniKernels.Slice(x, groupBlocks, groups, slices, sigmas);
        return new PreparedInput { Rows = x, Sums = sums, Slices = slices, Sigmas = sigmas };
    }

    /// <summary>Floats of scratch that one row's VNNI slices take: 3 σ's per group, then the slice bytes.</summary>
    private static int SliceFloats(LowBitPanels w) => 3 * w.Groups + (LowBit4VnniKernels.SliceBytes(w.Blocks) + 3) / 4;
}
