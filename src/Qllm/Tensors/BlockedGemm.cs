using System.Buffers;
using Qllm.Tensors.Kernels;

namespace Qllm.Tensors;

/// <summary>
/// Where the prefill GEMM gets its kc × 32 weight slices: fp32 panels are read in place, bf16 and low-bit
/// panels are expanded into a per-thread scratch buffer. A struct type parameter, so the JIT specializes
/// <see cref="BlockedGemm{TPanels}"/> per storage format and the slice call costs no virtual dispatch.
/// </summary>
internal unsafe interface IPanelSlices
{
    int Panels { get; }

    /// <summary>K-block length: <see cref="Gemm.KBlock"/>, or a multiple of the format's k granularity.</summary>
    int KBlock { get; }

    /// <summary>Rows of X per task (<see cref="Gemm.RowBlock"/>): a larger block amortizes a costly <see cref="Slice"/> over more rows.</summary>
    int RowBlock { get; }

    /// <summary>
    /// Null when the panels' k is X's column k. Otherwise the X column of each of the panels' k (−1: a zero), so a
    /// format that reorders or pads k (act-order, whole words of codes) gathers X while packing it, at no extra pass.
    /// </summary>
    int* ColumnMap { get; }

    /// <summary>True when <see cref="Slice"/> writes into the scratch buffer (kc × 32 floats) instead of pointing into the panel.</summary>
    bool NeedsScratch { get; }

    /// <summary>The fp32 slice [k0, k0 + kc) × 32 of a panel, 32 floats per k.</summary>
    float* Slice(int panel, int k0, int kc, float* scratch);
}

/// <summary>
/// The prefill half of <see cref="Gemm"/> (m ≥ 4), over any panel format: Goto-style blocking: for each
/// k-block, activations are packed into 8-row micro-panels that stay in L2, and each 32 × kc weight slice stays
/// in L1 while every micro-panel passes over it through the 8×32 register-blocked micro-kernel.
/// Work is split over threads by (row block, panel range); only pooled buffers are used.
/// </summary>
/// <param name="ldx">Floats from one row of X to the next: k, or X's own width when <see cref="IPanelSlices.ColumnMap"/> maps into it.</param>
internal readonly unsafe struct BlockedGemm<TPanels>(float* x, int ldx, float* y, TPanels w, int m, int n, int k, KernelPath path) : IParallelBody
    where TPanels : struct, IPanelSlices
{
    private const long ParallelThreshold = 1L << 16;

    // Fixed once: Run(task) must split the work as the loop was sized, even if the thread count changes meanwhile.
    private readonly int _rowBlocks = (m + w.RowBlock - 1) / w.RowBlock;
    private readonly int _panelChunks = PanelChunks((m + w.RowBlock - 1) / w.RowBlock, w.Panels); // the same row-block count

    /// <summary>Panel ranges per row block: enough tasks for every thread when there are few row blocks.</summary>
    private static int PanelChunks(int rowBlocks, int panels)
    {
        int threads = Compute.Threads;
        return rowBlocks >= 2 * threads ? 1 : Math.Min(panels, (2 * threads + rowBlocks - 1) / rowBlocks);
    }

    public void Run()
    {
        var self = this; // Compute.For reads the body through a reference to this copy
        Compute.For(_rowBlocks * _panelChunks, (long)m * n * k >= ParallelThreshold, ref self);
    }

    /// <summary>One task: a row block × a range of panels.</summary>
    public void Run(int task)
    {
        int panelChunks = _panelChunks, panels = w.Panels;
        int block = task / panelChunks, chunk = task % panelChunks;
        int r0 = block * w.RowBlock, r1 = Math.Min(m, r0 + w.RowBlock);
        var (p0, p1) = Compute.Share(panels, chunk, panelChunks);
        Block(r0, r1, p0, p1);
    }

    /// <summary>Rows [r0, r1) × panels [p0, p1) of the output, over all of k.</summary>
    private void Block(int r0, int r1, int p0, int p1)
    {
        const int tile = Gemm.RowsPerTile, width = PackedMatrix.PanelWidth;
        int kBlock = w.KBlock;
        int tiles = (r1 - r0 + tile - 1) / tile;
        float[] packedA = ArrayPool<float>.Shared.Rent(tiles * tile * kBlock);
        float[] scratch = w.NeedsScratch ? ArrayPool<float>.Shared.Rent(kBlock * width) : [];
        float* edge = stackalloc float[tile * width];
        try
        {
            fixed (float* a = packedA, bf = scratch)
            {
                for (int k0 = 0; k0 < k; k0 += kBlock)
                {
                    int kc = Math.Min(kBlock, k - k0);
                    PackActivations(a, r0, r1, k0, kc);
                    for (int panel = p0; panel < p1; panel++)
                    {
                        float* b = w.Slice(panel, k0, kc, bf);
                        int columns = Math.Min(width, n - panel * width);
                        for (int t = 0; t < tiles; t++)
                        {
                            int row = r0 + t * tile, rows = Math.Min(tile, r1 - row);
                            float* c = y + (long)row * n + panel * width;
                            if (rows == tile && columns == width)
                                Kernel.Tile8x32(path, a + (long)t * tile * kc, b, width, kc, c, n, accumulate: k0 > 0);
                            else
                            {
                                Kernel.Tile8x32(path, a + (long)t * tile * kc, b, width, kc, edge, width, accumulate: false);
                                for (int r = 0; r < rows; r++)
                                    for (int j = 0; j < columns; j++)
                                        c[(long)r * n + j] = (k0 > 0 ? c[(long)r * n + j] : 0f) + edge[r * width + j];
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedA);
            if (w.NeedsScratch) ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>X[r0..r1, k0..k0+kc] into 8-row micro-panels, k-major (8 values per k); rows past r1 are zero.</summary>
    private void PackActivations(float* a, int r0, int r1, int k0, int kc)
    {
        int* map = w.ColumnMap;
        for (int row0 = r0, t = 0; row0 < r1; row0 += Gemm.RowsPerTile, t++)
        {
            float* panel = a + (long)t * Gemm.RowsPerTile * kc;
            for (int i = 0; i < Gemm.RowsPerTile; i++)
            {
                int row = row0 + i;
                if (row < r1)
                {
                    float* source = x + (long)row * ldx;
                    if (map == null)
                        for (int p = 0; p < kc; p++) panel[p * Gemm.RowsPerTile + i] = source[k0 + p];
                    else
                        for (int p = 0; p < kc; p++) panel[p * Gemm.RowsPerTile + i] = map[k0 + p] is var column and >= 0 ? source[column] : 0f;
                }
                else
                    for (int p = 0; p < kc; p++) panel[p * Gemm.RowsPerTile + i] = 0f;
            }
        }
    }
}
