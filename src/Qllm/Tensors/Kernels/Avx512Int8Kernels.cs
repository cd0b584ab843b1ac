namespace Qllm.Tensors.Kernels;

/// <summary>
/// The AVX-512 VNNI int8 tile: vpdpbusd multiplies 4 unsigned activation bytes by 4 signed weight bytes and adds
/// the four products into an int32 lane, 64 multiply-adds per zmm instruction against 16 for an fp32 FMA. The code
/// is emitted at first use (<see cref="VnniTileEmitter"/>): one function per row count 1..8, so partial tiles and
/// decode rows issue only the instructions they need.
/// </summary>
internal static unsafe class Avx512Int8Kernels
{
    private static readonly nint[]? Tiles = Create();

    /// <summary>True where the CPU has AVX-512 VNNI and the code could be made executable.</summary>
    public static bool IsAvailable => Tiles != null;

    /// <summary>c[r·32 + j] = Σ_k a[r, k] · b[k, j] for r &lt; rows, over k4 groups of 4 k (layouts in <see cref="Int8Kernel"/>).</summary>
    public static void Tile(byte* a, sbyte* b, int k4, int rows, int* c) =>
        ((delegate* unmanaged[SuppressGCTransition]<byte*, sbyte*, long, int*, void>)Tiles![rows - 1])(a, b, k4, c);

    private static nint[]? Create()
    {
        if (!KernelSelector.HasAvx512Vnni) return null;
        var tiles = new nint[8];
        for (int rows = 1; rows <= 8; rows++)
        {
            byte* code = ExecutableMemory.TryCreate(VnniTileEmitter.Emit(rows));
            if (code == null) return null;
            tiles[rows - 1] = (nint)code;
        }
        return tiles;
    }
}
