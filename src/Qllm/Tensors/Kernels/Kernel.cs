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
