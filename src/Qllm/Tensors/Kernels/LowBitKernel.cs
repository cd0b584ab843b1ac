namespace Qllm.Tensors.Kernels;

/// <summary>
/// Dispatch of the low-bit kernels (codes bit-packed along k in 32-row panels, see
/// <c>Qllm.Quantization.Packed.LowBitPanels</c>) to the instruction set chosen by <see cref="KernelSelector"/>.
/// </summary>
internal static unsafe class LowBitKernel
{
    /// <summary>
    /// y[32] = Σ_g scale_g ⊙ (Σ_{k∈g} x_k · code_k − zero_g · Σ_{k∈g} x_k) for one panel: integer codes times
    /// activations summed per group in fp32, each group's grid applied once at its end. x is the gathered
    /// activation row (group order, padded), groupSums its per-group sums, computed once per row for all panels.
    /// </summary>
    /// <remarks>
    /// rows (1..3) rows at once: x rows are xStride apart, their group sums groups apart, outputs 32 apart. Several
    /// rows share each code's extraction on AVX-512; the other paths run them one by one.
    /// </remarks>
    public static void Gemv32(KernelPath path, float* x, int xStride, float* groupSums, int rows, uint* codes, int* groupBlocks, int groups, int bits, float* scales, float* zeros, float* y)
    {
        if (path == KernelPath.Avx512 && rows > 1)
        {
            Avx512LowBitKernels.Gemv32Rows(x, xStride, groupSums, rows, codes, groupBlocks, groups, bits, scales, zeros, y);
            return;
        }
        for (int row = 0; row < rows; row++, x += xStride, groupSums += groups, y += 32)
            switch (path)
            {
                case KernelPath.Avx512: Avx512LowBitKernels.Gemv32(x, groupSums, codes, groupBlocks, groups, bits, scales, zeros, y); break;
                case KernelPath.Avx2: Avx2LowBitKernels.Gemv32(x, groupSums, codes, groupBlocks, groups, bits, scales, zeros, y); break;
                default: PortableLowBitKernels.Gemv32(x, groupSums, codes, groupBlocks, groups, bits, scales, zeros, y); break;
            }
    }

    /// <summary>
    /// Blocks of one group's codes → fp32 weights scale · (code − zero), 32 per k-step: the computation and
    /// rounding of <c>QuantizedWeight.Dequantize</c>, so prefill multiplies bit-identical weights.
    /// </summary>
    public static void Dequantize(KernelPath path, uint* codes, int blocks, int bits, float* scales, float* zeros, float* destination)
    {
        switch (path)
        {
            case KernelPath.Avx512: Avx512LowBitKernels.Dequantize(codes, blocks, bits, scales, zeros, destination); break;
            case KernelPath.Avx2: Avx2LowBitKernels.Dequantize(codes, blocks, bits, scales, zeros, destination); break;
            default: PortableLowBitKernels.Dequantize(codes, blocks, bits, scales, zeros, destination); break;
        }
    }
}
