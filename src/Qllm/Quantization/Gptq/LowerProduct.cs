using Qllm.Tensors;
using Qllm.Tensors.Kernels;

namespace Qllm.Quantization.Gptq;

/// <summary>
/// C = XᵀX for a chunk of rows X [m, k], on the 8×32 tiles that touch the lower triangle only (a SYRK), in fp32
/// through the GEMM micro-kernel. Per block of <see cref="TokenBlock"/> rows, X is copied once into two packed
/// forms: 8-column slivers (the micro-kernel's A, one value per row and column) and 32-column panels (its B);
/// both are plain copies of X's rows, so unlike a GEMM on Xᵀ nothing is transposed. Threads take slivers of 8
/// output rows; a sliver's tiles run left of and across the diagonal.
/// </summary>
internal sealed unsafe class LowerProduct
{
    private const int TokenBlock = 256;
    private const int SliverRows = 8;
    private const int PanelColumns = 32;

    private readonly int _k, _padded;
    private readonly float[] _slivers, _panels, _product;

    public LowerProduct(int columns)
    {
        _k = columns;
        _padded = (columns + PanelColumns - 1) / PanelColumns * PanelColumns;
        _slivers = GC.AllocateArray<float>(_padded * TokenBlock, pinned: true);
        _panels = GC.AllocateArray<float>(_padded * TokenBlock, pinned: true);
        _product = GC.AllocateArray<float>(_padded * _padded, pinned: true); // [row, column], ldc = padded
    }

    /// <summary>Adds XᵀX of x [m, k] to the fp32 product (lower-triangle tiles).</summary>
    public void Accumulate(ReadOnlySpan<float> x, int m)
    {
        fixed (float* source = x)
        {
            for (int t0 = 0; t0 < m; t0 += TokenBlock)
            {
                int kc = Math.Min(TokenBlock, m - t0);
                var pack = new PackBody(source + (long)t0 * _k, _k, kc, this);
                Compute.For(_padded / PanelColumns, (long)kc * _k > 1 << 15, ref pack);
                var tiles = new TileBody(this, kc, KernelSelector.Current);
                Compute.For(_padded / SliverRows, true, ref tiles);
            }
        }
    }

    /// <summary>lower[i, j] += factor · C[i, j] for j ≤ i, then clears C for the next chunk.</summary>
    public void FlushInto(double[] lower, double factor)
    {
        var body = new FlushBody(this, lower, factor);
        Compute.For(_k, (long)_k * _k > 1 << 16, ref body);
    }

    /// <summary>Copies one 32-column panel of the block's rows into both packed forms (zero past column k).</summary>
    private readonly struct PackBody(float* x, int k, int kc, LowerProduct owner) : IParallelBody
    {
        public void Run(int panel)
        {
            int j0 = panel * PanelColumns, width = Math.Min(PanelColumns, k - j0);
            fixed (float* panels = owner._panels, slivers = owner._slivers)
            {
                float* b = panels + (long)panel * PanelColumns * TokenBlock;
                for (int p = 0; p < kc; p++)
                {
                    float* row = x + (long)p * k + j0;
                    float* target = b + p * PanelColumns;
                    new ReadOnlySpan<float>(row, width).CopyTo(new Span<float>(target, width));
                    if (width < PanelColumns) new Span<float>(target + width, PanelColumns - width).Clear();
                    // The panel's four slivers: sliver s holds columns 8s.. as [p][8].
                    for (int s = 0; s < PanelColumns / SliverRows; s++)
                        new ReadOnlySpan<float>(target + s * SliverRows, SliverRows)
                            .CopyTo(new Span<float>(slivers + ((long)(j0 / SliverRows + s) * TokenBlock + p) * SliverRows, SliverRows));
                }
            }
        }
    }

    /// <summary>Sliver i (rows 8i..8i+7): its tiles with every panel that starts at or left of its last row.</summary>
    private readonly struct TileBody(LowerProduct owner, int kc, KernelPath path) : IParallelBody
    {
        public void Run(int sliver)
        {
            int i0 = sliver * SliverRows, padded = owner._padded;
            if (i0 >= owner._k) return;
            fixed (float* slivers = owner._slivers, panels = owner._panels, product = owner._product)
            {
                float* a = slivers + (long)sliver * TokenBlock * SliverRows;
                for (int j0 = 0; j0 <= i0 + SliverRows - 1 && j0 < padded; j0 += PanelColumns)
                    Kernel.Tile8x32(path, a, panels + (long)j0 * TokenBlock, PanelColumns, kc, product + (long)i0 * padded + j0, padded, accumulate: true);
            }
        }
    }

    private readonly struct FlushBody(LowerProduct owner, double[] lower, double factor) : IParallelBody
    {
        public void Run(int i)
        {
            int k = owner._k;
            var source = owner._product.AsSpan(i * owner._padded, i + 1);
            var target = lower.AsSpan(i * k, i + 1);
            for (int j = 0; j <= i; j++) target[j] += factor * source[j];
            // Row i's tiles reach the end of the panel holding its sliver's last row; nothing right of that was written.
            int touched = Math.Min(owner._padded, (i / SliverRows * SliverRows + SliverRows - 1) / PanelColumns * PanelColumns + PanelColumns);
            owner._product.AsSpan(i * owner._padded, touched).Clear();
        }
    }
}
