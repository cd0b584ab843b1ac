using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Qllm.Tensors.Kernels;

namespace Qllm.Tensors;

/// <summary>
/// Y[m, n] = X[m, k] · Wᵀ (+ bias), W [n, k] in the nn.Linear layout, pre-packed into 32-row panels
/// (<see cref="PackedMatrix"/>). Two regimes:
/// <list type="bullet">
/// <item>prefill (m ≥ 4): Goto-style blocking: for each k-block of <see cref="KBlock"/>, activations are packed into
/// 8-row micro-panels that stay in L2, and each 32 × KBlock weight slice stays in L1 while every micro-panel
/// passes over it through an 8×32 register-blocked micro-kernel;</item>
/// <item>decode (m &lt; 4): a GEMV per row that streams each weight panel once, bound by memory bandwidth.</item>
/// </list>
/// Work is split over threads by (row block, panel range); nothing is allocated per call beyond pooled buffers.
/// </summary>
public static unsafe class Gemm
{
    internal const int RowsPerTile = 8;
    internal const int KBlock = 256;
    internal const int RowBlock = 128;
    private const int GemvRowLimit = 4;
    private const long ParallelThreshold = 1L << 16;

    public static void Multiply(ReadOnlySpan<float> x, int m, PackedMatrix w, Span<float> y, ReadOnlySpan<float> bias = default)
    {
        int n = w.Rows, k = w.Columns;
        if (x.Length < (long)m * k || y.Length < (long)m * n)
            throw new ArgumentException($"GEMM operand too small for m={m} n={n} k={k}.");
        if (!bias.IsEmpty && bias.Length < n) throw new ArgumentException("GEMM bias shorter than n.");
        if (m == 0 || n == 0) return;

        var path = KernelSelector.Current;
        fixed (float* px = x, py = y)
        {
            if (m < GemvRowLimit) RunGemvs(px, m, [w], [(nint)py], path);
            else new Job(px, py, w, m, path).RunBlocked();
        }
        if (!bias.IsEmpty)
            for (int i = 0; i < m; i++) TensorPrimitives.Add(y.Slice(i * n, n), bias[..n], y.Slice(i * n, n));
    }

    /// <summary>True when <see cref="Multiply"/> takes the GEMV (decode) route for m rows.</summary>
    public static bool IsGemv(int m) => m < GemvRowLimit;

    /// <summary>
    /// Several GEMVs on the same input (q/k/v, or gate/up, at decode) in one parallel loop over the union of
    /// their panels: one fork instead of one per matrix, and longer streams per thread. Same results as
    /// calling <see cref="Multiply"/> on each.
    /// </summary>
    public static void MultiplyGemvs(ReadOnlySpan<float> x, int m, ReadOnlySpan<PackedMatrix> ws, ReadOnlySpan<float[]> ys, ReadOnlySpan<float[]?> biases)
    {
        if (!IsGemv(m)) throw new ArgumentException($"MultiplyGemvs is for fewer than {GemvRowLimit} rows.");
        if (ws.Length > MaxGemvs) throw new ArgumentException($"MultiplyGemvs takes at most {MaxGemvs} matrices.");
        for (int i = 0; i < ws.Length; i++)
        {
            if (ws[i].Columns != ws[0].Columns) throw new ArgumentException("all matrices of MultiplyGemvs must share the input width.");
            if (x.Length < (long)m * ws[i].Columns || ys[i].Length < (long)m * ws[i].Rows) throw new ArgumentException("MultiplyGemvs operand too small.");
        }
        nint* outputs = stackalloc nint[MaxGemvs];
        fixed (float* px = x, y0 = Output(ys, 0), y1 = Output(ys, 1), y2 = Output(ys, 2), y3 = Output(ys, 3))
        {
            outputs[0] = (nint)y0; outputs[1] = (nint)y1; outputs[2] = (nint)y2; outputs[3] = (nint)y3;
            RunGemvs(px, m, ws, new ReadOnlySpan<nint>(outputs, ws.Length), KernelSelector.Current);
        }
        for (int i = 0; i < ws.Length; i++)
            if (biases[i] is { } bias)
                for (int row = 0; row < m; row++) TensorPrimitives.Add(ys[i].AsSpan(row * ws[i].Rows, ws[i].Rows), bias, ys[i].AsSpan(row * ws[i].Rows, ws[i].Rows));
    }

    private const int MaxGemvs = 4;

    private static float[]? Output(ReadOnlySpan<float[]> outputs, int i) => i < outputs.Length ? outputs[i] : null;

    /// <summary>
    /// The decode GEMVs of matrices that share the input x [m, k], into ys[i] [m, ws[i].Rows]: one parallel loop over
    /// the union of their panels, one contiguous chunk per thread (<see cref="Compute.StreamChunks"/>), each panel
    /// streamed once for all rows.
    /// </summary>
    private static void RunGemvs(float* x, int m, ReadOnlySpan<PackedMatrix> ws, ReadOnlySpan<nint> ys, KernelPath path)
    {
        var batch = new GemvBatch { Rows = m, Path = path, Input = x, Count = ws.Length };
        for (int i = 0; i < ws.Length; i++)
        {
            batch.Matrices[i] = ws[i];
            batch.Outputs[i] = ys[i];
            batch.FirstPanel[i + 1] = batch.FirstPanel[i] + ws[i].Panels;
        }
        int panels = batch.FirstPanel[ws.Length];
        bool parallel = (long)m * panels * PackedMatrix.PanelWidth * ws[0].Columns >= ParallelThreshold;
        batch.Chunks = parallel ? Compute.StreamChunks(panels) : 1;
        Compute.For(batch.Chunks, parallel, ref batch);
    }

    [InlineArray(MaxGemvs)] private struct FourMatrices { private PackedMatrix? _first; }
    [InlineArray(MaxGemvs)] private struct FourOutputs { private nint _first; }
    [InlineArray(MaxGemvs + 1)] private struct FivePanelStarts { private int _first; }

    /// <summary>The panels of up to four matrices as one range, one chunk per thread.</summary>
    private struct GemvBatch : IParallelBody
    {
        public FourMatrices Matrices;
        public FourOutputs Outputs;
        public FivePanelStarts FirstPanel;
        public int Count, Rows, Chunks;
        public float* Input;
        public KernelPath Path;

        public void Run(int chunk)
        {
            var (first, last) = Compute.Share(FirstPanel[Count], chunk, Chunks);
            int matrix = 0;
            for (int global = first; global < last; global++)
            {
                while (global >= FirstPanel[matrix + 1]) matrix++;
                var job = new Job(Input, (float*)Outputs[matrix], Matrices[matrix]!, Rows, Path);
                for (int row = 0; row < Rows; row++) job.GemvPanel(row, global - FirstPanel[matrix]);
            }
        }
    }

    /// <summary>Convenience for an unpacked W [n, k]: packs it, then multiplies. Layers keep their packed weights instead.</summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int m, int n, int k, ReadOnlySpan<float> bias = default) =>
        Multiply(x, m, PackedMatrix.Pack(w[..(n * k)], n, k), y, bias);

    private readonly struct Job(float* x, float* y, PackedMatrix w, int m, KernelPath path)
    {
        private readonly int _n = w.Rows, _k = w.Columns;

        public void GemvPanel(int row, int panel)
        {
            float* xr = x + (long)row * _k;
            float* output = stackalloc float[PackedMatrix.PanelWidth];
            long offset = (long)panel * _k * PackedMatrix.PanelWidth;
            if (w.IsBf16)
                fixed (ushort* b = w.Bf16) Kernel.Gemv32Bf16(path, xr, b + offset, _k, output);
            else
                fixed (float* b = w.F32) Kernel.Gemv32(path, xr, b + offset, _k, output);
            int columns = Math.Min(PackedMatrix.PanelWidth, _n - panel * PackedMatrix.PanelWidth);
            new Span<float>(output, columns).CopyTo(new Span<float>(y + (long)row * _n + panel * PackedMatrix.PanelWidth, columns));
        }

        public void RunBlocked() =>
            new BlockedGemm<PackedPanels>(x, _k, y, new PackedPanels(w, path), m, _n, _k, path).Run();
    }

    /// <summary>Slices of fp32 panels in place, or of bf16 panels widened into the scratch buffer.</summary>
    private readonly struct PackedPanels(PackedMatrix w, KernelPath path) : IPanelSlices
    {
        public int Panels => w.Panels;
        public int KBlock => Gemm.KBlock;
        public int RowBlock => Gemm.RowBlock;
        public int* ColumnMap => null;
        public bool NeedsScratch => w.IsBf16;

        /// <summary>The kc × 32 slice of a weight panel starting at k0, widened to fp32 first when stored as bf16.</summary>
        public float* Slice(int panel, int k0, int kc, float* widened)
        {
            long offset = ((long)panel * w.Columns + k0) * PackedMatrix.PanelWidth;
            if (!w.IsBf16)
                fixed (float* b = w.F32) return b + offset; // safe outside `fixed`: packed weights live on the pinned object heap
            fixed (ushort* b = w.Bf16) Kernel.WidenBf16(path, b + offset, widened, kc * PackedMatrix.PanelWidth);
            return widened;
        }
    }
}
