using System.Numerics;

namespace Qllm.Tensors.Kernels;

/// <summary>The same kernels on <see cref="Vector{T}"/>, for CPUs without AVX2 (and as a reference path in tests).</summary>
internal static unsafe class PortableKernels
{
    public static void Tile8x32(float* a, float* b, int ldb, int kc, float* c, int ldc, bool accumulate)
    {
        int width = Vector<float>.Count, chunks = 32 / width;
        Span<Vector<float>> acc = stackalloc Vector<float>[8 * 32 / width];
        acc.Clear();
        for (int p = 0; p < kc; p++, a += 8, b += ldb)
            for (int r = 0; r < 8; r++)
            {
                var x = new Vector<float>(a[r]);
                for (int v = 0; v < chunks; v++) acc[r * chunks + v] += x * Vector.Load(b + v * width);
            }
        for (int r = 0; r < 8; r++)
            for (int v = 0; v < chunks; v++)
            {
                float* p = c + (long)r * ldc + v * width;
                var value = acc[r * chunks + v];
                if (accumulate) value += Vector.Load(p);
                value.Store(p);
            }
    }

    public static void Gemv32(float* x, float* panel, int k, float* y)
    {
        int width = Vector<float>.Count, chunks = 32 / width;
        Span<Vector<float>> acc = stackalloc Vector<float>[chunks];
        acc.Clear();
        for (int p = 0; p < k; p++, panel += 32)
        {
            var xp = new Vector<float>(x[p]);
            for (int v = 0; v < chunks; v++) acc[v] += xp * Vector.Load(panel + v * width);
        }
        for (int v = 0; v < chunks; v++) acc[v].Store(y + v * width);
    }

    public static void Gemv32Bf16(float* x, ushort* panel, int k, float* y)
    {
        Span<float> acc = stackalloc float[32];
        acc.Clear();
        for (int p = 0; p < k; p++, panel += 32)
            for (int j = 0; j < 32; j++) acc[j] += x[p] * PackedMatrix.FromBf16(panel[PackedMatrix.Bf16Slot(j)]);
        acc.CopyTo(new Span<float>(y, 32));
    }

    public static void WidenBf16(ushort* source, float* destination, int count)
    {
        for (int i = 0; i < count; i++) destination[i] = PackedMatrix.FromBf16(source[i - i % 32 + PackedMatrix.Bf16Slot(i % 32)]);
    }
}
