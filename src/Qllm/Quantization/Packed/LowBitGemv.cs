using Qllm.Tensors;
using Qllm.Tensors.Kernels;

namespace Qllm.Quantization.Packed;

/// <summary>
/// Decode (rows &lt; 4) over low-bit panels: threads take ranges of panels, and each panel's codes are streamed
/// once for all rows. x holds the gathered rows (<see cref="LowBitPanels.PaddedColumns"/> apart), sums their group sums.
/// </summary>
internal readonly unsafe struct LowBitGemv(LowBitPanels w, float* x, float* sums, float* y, int rows, KernelPath path) : IParallelBody
{
    private const long ParallelThreshold = 1L << 16;

    // Fixed once: Run(chunk) must split panels as the loop was sized, even if the thread count changes meanwhile.
    private readonly int _chunks = Math.Min(w.Panels, Compute.Threads * 4);

    public void Run()
    {
        var self = this; // Compute.For reads the body through a reference to this copy
        Compute.For(_chunks, (long)rows * w.Rows * w.Columns >= ParallelThreshold, ref self);
    }

    /// <summary>One chunk of panels, for all rows at once.</summary>
    public void Run(int chunk)
    {
        int panels = w.Panels, chunks = _chunks;
        int first = (int)((long)panels * chunk / chunks), last = (int)((long)panels * (chunk + 1) / chunks);
        for (int panel = first; panel < last; panel++) Panel(panel);
    }

    private void Panel(int panel)
    {
        const int width = LowBitPanels.Width;
        float* output = stackalloc float[3 * width];
        int n = w.Rows, columns = Math.Min(width, n - panel * width);
        // Packed arrays are pinned, so these pointers stay valid after `fixed` (as in Gemm).
        fixed (uint* codes = w.Codes)
        fixed (float* scales = w.Scales, zeros = w.Zeros)
        fixed (int* groupBlocks = w.GroupBlocks)
        {
            long vectors = (long)panel * w.Groups * width;
            LowBitKernel.Gemv32(path, x, w.PaddedColumns, sums, rows, codes + (long)panel * w.Blocks * width,
                groupBlocks, w.Groups, w.Bits, scales + vectors, zeros + vectors, output);
        }
        for (int row = 0; row < rows; row++)
            new Span<float>(output + row * width, columns).CopyTo(new Span<float>(y + (long)row * n + panel * width, columns));
    }
}
