using Qllm.Tensors.Kernels;

namespace Qllm.Tensors;

/// <summary>
/// Activations X [rows, columns] quantized to unsigned codes a ∈ [0, 255] with, per row, a scale s and integer
/// zero point z (x ≈ s·(a − z); per-tensor quantization gives every row the same pair), stored in the int8 tile's
/// layout (<see cref="Int8Kernel"/>): tiles of 8 rows, each a run of k-groups of 32 bytes (row r's 4 consecutive k
/// at 4r). A buffer meant to be kept and refilled (<see cref="Reset"/> grows it only when needed).
/// </summary>
public sealed unsafe class Int8Activations
{
    private byte[] _codes = [];
    private int[] _zeros = [], _sums = [];
    private float[] _scales = [];

    public int Rows { get; private set; }
    public int Columns { get; private set; }
    public int KGroups => (Columns + Int8Kernel.KGroup - 1) / Int8Kernel.KGroup;

    internal byte[] Codes => _codes;
    internal int[] Zeros => _zeros;

    /// <summary>Per row: Σ_k (a − z), the term the weight zero point multiplies.</summary>
    internal int[] Sums => _sums;

    internal float[] Scales => _scales;

    /// <summary>Makes room for rows × columns; previous contents are not kept.</summary>
    public void Reset(int rows, int columns)
    {
        if (columns is < 1 or > Int8Panels.MaxColumns) throw new ArgumentException($"int8 activations: {columns} columns; 1..{Int8Panels.MaxColumns} fit the int32 accumulators.");
        Rows = rows;
        Columns = columns;
        long bytes = (long)(rows + Int8Kernel.Rows - 1) / Int8Kernel.Rows * Int8Kernel.Rows * KGroups * Int8Kernel.KGroup;
        if (bytes > Array.MaxLength) throw new ArgumentException($"int8 activations: {rows}×{columns} is too large for one buffer.");
        if (_codes.Length < bytes) _codes = GC.AllocateUninitializedArray<byte>((int)bytes, pinned: true);
        if (_scales.Length < rows)
        {
            _zeros = new int[rows];
            _sums = new int[rows];
            _scales = new float[rows];
        }
    }

    /// <summary>Row <paramref name="row"/>'s codes (columns of them), scale and zero point.</summary>
    public void SetRow(int row, ReadOnlySpan<byte> codes, float scale, int zero)
    {
        if ((uint)row >= (uint)Rows || codes.Length < Columns) throw new ArgumentException("int8 activations: row out of range or too few codes.");
        int k4 = KGroups, full = Columns / Int8Kernel.KGroup, sum = 0;
        foreach (byte code in codes[..Columns]) sum += code;
        fixed (byte* source = codes, tiles = _codes)
        {
            // Each k-group's 4 codes move as one 32-bit word; the last, partial group is zero-padded.
            uint* destination = (uint*)(tiles + (long)(row / Int8Kernel.Rows) * Int8Kernel.Rows * k4 * Int8Kernel.KGroup) + row % Int8Kernel.Rows;
            for (int p = 0; p < full; p++) destination[p * Int8Kernel.Rows] = ((uint*)source)[p];
            if (full < k4)
            {
                uint last = 0;
                for (int t = 0; t < Columns - full * Int8Kernel.KGroup; t++) last |= (uint)source[full * Int8Kernel.KGroup + t] << (8 * t);
                destination[full * Int8Kernel.Rows] = last;
            }
        }
        _scales[row] = scale;
        _zeros[row] = zero;
        _sums[row] = sum - zero * Columns;
    }
}
