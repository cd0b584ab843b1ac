namespace Qllm.Tensors.Kernels;

/// <summary>Scalar low-bit kernels: the reference path in tests and the fallback without AVX2.</summary>
internal static unsafe class PortableLowBitKernels
{
    public static void Gemv32(float* x, float* groupSums, uint* codes, int* groupBlocks, int groups, int bits, float* scales, float* zeros, float* y)
    {
        int perWord = 32 / bits;
        uint mask = (1u << bits) - 1;
        Span<float> acc = stackalloc float[32];
        for (int j = 0; j < 32; j++) y[j] = 0f;
        for (int g = 0; g < groups; g++, scales += 32, zeros += 32)
        {
            acc.Clear();
            for (int block = groupBlocks[g]; block < groupBlocks[g + 1]; block++, codes += 32, x += perWord)
                for (int s = 0; s < perWord; s++)
                    for (int j = 0; j < 32; j++) acc[j] += x[s] * (float)((codes[j] >> (bits * s)) & mask);
            for (int j = 0; j < 32; j++) y[j] += scales[j] * (acc[j] - zeros[j] * groupSums[g]);
        }
    }

    public static void Dequantize(uint* codes, int blocks, int bits, float* scales, float* zeros, float* destination)
    {
        int perWord = 32 / bits;
        uint mask = (1u << bits) - 1;
        for (int block = 0; block < blocks; block++, codes += 32)
            for (int s = 0; s < perWord; s++, destination += 32)
                for (int j = 0; j < 32; j++) destination[j] = scales[j] * ((int)((codes[j] >> (bits * s)) & mask) - zeros[j]);
    }
}
