namespace Qllm.Tensors.Kernels;

/// <summary>
/// Dispatch of the int8 tile to the instruction set chosen by <see cref="KernelSelector"/>. The tile computes
/// c[r, j] = Σ_k a[r, k] · b[k, j] in int32 for up to 8 rows × 32 columns, with k in groups of 4 (vpdpbusd's unit):
/// <list type="bullet">
/// <item>a: unsigned activation bytes, 32 per k-group (row r's 4 bytes at 4r), so one dword broadcast feeds a row;</item>
/// <item>b: a signed weight panel, 128 bytes per k-group (column j's 4 bytes at 4j): one zmm holds 16 columns;</item>
/// <item>c: int32, 32 per row.</item>
/// </list>
/// The path is AVX-512 only where VNNI is there too; otherwise AVX2's widening tile, which every x64 CPU with
/// AVX-512 also runs.
/// </summary>
internal static unsafe class Int8Kernel
{
    public const int Rows = 8, Columns = 32, KGroup = 4;

    public static void Tile(KernelPath path, byte* a, sbyte* b, int k4, int rows, int* c)
    {
        if (path == KernelPath.Avx512 && Avx512Int8Kernels.IsAvailable) Avx512Int8Kernels.Tile(a, b, k4, rows, c);
        else if (path != KernelPath.Portable) Avx2Int8Kernels.Tile(a, b, k4, rows, c);
        else PortableInt8Kernels.Tile(a, b, k4, rows, c);
    }
}
