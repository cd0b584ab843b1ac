using Qllm.Tensors;
using Qllm.Tensors.Kernels;

namespace Qllm.Quantization.Packed;

/// <summary>
/// Decode (rows &lt; 4) over low-bit panels: threads take ranges of panels, and each panel's codes are streamed
/// once per row. x holds the gathered rows (<see cref="LowBitPanels.PaddedColumns"/> apart), sums their group sums.
/// </summary>
internal readonly unsafe struct LowBitGemv(LowBitPanels w, float* x, float* sums, float* y, int rows, KernelPath path) : ILoopBody
{
    private const long ParallelThreshold = 1L << 16;

    // Fixed once: Run(chunk) must split panels as the loop was sized, even if the thread count changes meanwhile.
    private readonly int _chunks = Math.Min(w.Panels, Compute.Threads * 4);

    public void Run() => Compute.For(_chunks, (long)rows * w.Rows * w.Columns >= ParallelThreshold, this);

    /// <summary>One chunk of panels, for every row.</summary>
    public void Run(int chunk)
    {
        int panels = w.Panels, chunks = _chunks;
        int first = (int)((long)panels * chunk / chunks), last = (int)((long)panels * (chunk + 1) / chunks);
        for (int row = 0; row < rows; row++)
            for (int panel = first; panel < last; panel++) Panel(row, panel);
    }

    private void Panel(int row, int panel)
    {
        const int width = LowBitPanels.Width;
        float* output = stackalloc float[width];
        int n = w.Rows, columns = Math.Min(width, n - panel * width);
        float* target = y + (long)row * n + panel * width;
        // Packed arrays are pinned, so these pointers stay valid after `fixed` (as in Gemm).
        fixed (uint* codes = w.Codes)
        fixed (float* scales = w.Scales, zeros = w.Zeros)
        fixed (int* groupBlocks = w.GroupBlocks)
        {
            long vectors = (long)panel * w.Groups * width;
            LowBitKernel.Gemv32(path, x + (long)row * w.PaddedColumns, sums + (long)row * w.Groups, codes + (long)panel * w.Blocks * width,
                groupBlocks, w.Groups, w.Bits, scales + vectors, zeros + vectors, columns == width ? target : output);
        }
        if (columns < width) new Span<float>(output, columns).CopyTo(new Span<float>(target, columns));
    }
}
