namespace Qllm.Tensors.Kernels;

/// <summary>Dispatch of each kernel to the instruction set chosen by <see cref="KernelSelector"/>.</summary>
internal static unsafe class Kernel
{
    public static void Tile8x32(KernelPath path, float* a, float* b, int ldb, int kc, float* c, int ldc, bool accumulate)
    {
        switch (path)
        {
            case KernelPath.Avx512: Avx512Kernels.Tile8x32(a, b, ldb, kc, c, ldc, accumulate); break;
            case KernelPath.Avx2: Avx2Kernels.Tile8x32(a, b, ldb, kc, c, ldc, accumulate); break;
            default: PortableKernels.Tile8x32(a, b, ldb, kc, c, ldc, accumulate); break;
        }
    }

    /// <summary>8×32 tile with A at a[i·rowStride + p·kStride] (row-major A: rowStride = kc's row length, kStride = 1).</summary>
    public static void Tile8x32Strided(KernelPath path, float* a, int rowStride, int kStride, float* b, int ldb, int kc, float* c, int ldc, bool accumulate)
    {
        if (path == KernelPath.Avx512)
        {
            Avx512Kernels.Tile8x32Strided(a, rowStride, kStride, b, ldb, kc, c, ldc, accumulate);
            return;
        }
        // Other paths: gather A k-major (8 values per step) on the stack, then the packed kernel.
        float* packed = stackalloc float[8 * kc];
        for (int p = 0; p < kc; p++)
            for (int i = 0; i < 8; i++) packed[p * 8 + i] = a[i * rowStride + p * kStride];
        Tile8x32(path, packed, b, ldb, kc, c, ldc, accumulate);
    }

    public static void Gemv32(KernelPath path, float* x, float* panel, int k, float* y)
    {
        switch (path)
        {
            case KernelPath.Avx512: Avx512Kernels.Gemv32(x, panel, k, y); break;
            case KernelPath.Avx2: Avx2Kernels.Gemv32(x, panel, k, y); break;
            default: PortableKernels.Gemv32(x, panel, k, y); break;
        }
    }

    public static void Gemv32Bf16(KernelPath path, float* x, ushort* panel, int k, float* y)
    {
        switch (path)
        {
            case KernelPath.Avx512: Avx512Kernels.Gemv32Bf16(x, panel, k, y); break;
            case KernelPath.Avx2: Avx2Kernels.Gemv32Bf16(x, panel, k, y); break;
            default: PortableKernels.Gemv32Bf16(x, panel, k, y); break;
        }
    }

    public static void WidenBf16(KernelPath path, ushort* source, float* destination, int count)
    {
        if (path == KernelPath.Avx512) Avx512Kernels.WidenBf16(source, destination, count);
        else PortableKernels.WidenBf16(source, destination, count);
    }
}
