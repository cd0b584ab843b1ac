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
            var job = new Job(px, py, w, m, path);
            if (m < GemvRowLimit) job.RunGemv();
            else job.RunBlocked();
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
        int k = ws[0].Columns;
        var batch = new GemvBatch { Rows = m, Path = KernelSelector.Current };
        for (int i = 0; i < ws.Length; i++)
        {
            if (ws[i].Columns != k) throw new ArgumentException("all matrices of MultiplyGemvs must share the input width.");
            batch.Matrices[i] = ws[i];
            batch.Outputs[i] = ys[i];
            batch.FirstPanel[i + 1] = batch.FirstPanel[i] + ws[i].Panels;
        }
        batch.Count = ws.Length;
        int panels = batch.FirstPanel[ws.Length];
        batch.Chunks = Compute.StreamChunks(panels);
        bool parallel = (long)m * panels * PackedMatrix.PanelWidth * k >= ParallelThreshold;
        if (parallel)
        {
            Span<NextStream.Part> parts = stackalloc NextStream.Part[MaxGemvs];
            for (int i = 0; i < ws.Length; i++) parts[i] = ws[i].StreamPart;
            NextStream.Follow(ws[0].Next, parts[..ws.Length], batch.Chunks);
        }
        fixed (float* px = x)
        {
            batch.Input = px;
            Compute.For(batch.Chunks, parallel, ref batch);
        }
        for (int i = 0; i < ws.Length; i++)
            if (biases[i] is { } bias)
                for (int row = 0; row < m; row++) TensorPrimitives.Add(ys[i].AsSpan(row * ws[i].Rows, ws[i].Rows), bias, ys[i].AsSpan(row * ws[i].Rows, ws[i].Rows));
    }

    private const int MaxGemvs = 4;

    [InlineArray(MaxGemvs)] private struct FourMatrices { private PackedMatrix? _first; }
    [InlineArray(MaxGemvs)] private struct FourOutputs { private float[]? _first; }
    [InlineArray(MaxGemvs + 1)] private struct FivePanelStarts { private int _first; }

    /// <summary>The panels of up to four matrices as one range, one contiguous chunk per thread (<see cref="Compute.StreamChunks"/>).</summary>
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
            int panels = FirstPanel[Count];
            var (first, last) = Compute.Share(panels, chunk, Chunks);
            int matrix = 0;
            for (int global = first; global < last; global++)
            {
                if (global == last - 1) Matrices[0]!.Next.PrefetchChunk(chunk); // see NextStream
                while (global >= FirstPanel[matrix + 1]) matrix++;
                fixed (float* py = Outputs[matrix])
                {
                    var job = new Job(Input, py, Matrices[matrix]!, Rows, Path);
                    for (int row = 0; row < Rows; row++) job.GemvPanel(row, global - FirstPanel[matrix]);
                }
            }
        }
    }

    /// <summary>Convenience for an unpacked W [n, k]: packs it, then multiplies. Layers keep their packed weights instead.</summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int m, int n, int k, ReadOnlySpan<float> bias = default) =>
        Multiply(x, m, PackedMatrix.Pack(w[..(n * k)], n, k), y, bias);

    private readonly struct Job(float* x, float* y, PackedMatrix w, int m, KernelPath path)
    {
        private readonly int _n = w.Rows, _k = w.Columns;
        public PackedMatrix Matrix => w;

        public void RunGemv()
        {
            int panels = w.Panels;
            var body = new GemvChunks { Job = this, Panels = panels, Chunks = Compute.StreamChunks(panels), Rows = m };
            bool parallel = (long)m * _n * _k >= ParallelThreshold;
            if (parallel) NextStream.Follow(w.Next, [w.StreamPart], body.Chunks);
            Compute.For(body.Chunks, parallel, ref body);
        }

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

    /// <summary>GEMV: a chunk of panels for every row.</summary>
    private struct GemvChunks : IParallelBody
    {
        public Job Job;
        public int Panels, Chunks, Rows;

        public void Run(int chunk)
        {
            var (first, last) = Compute.Share(Panels, chunk, Chunks);
            for (int row = 0; row < Rows; row++)
                for (int panel = first; panel < last; panel++)
                {
                    if (row == Rows - 1 && panel == last - 1) Job.Matrix.Next.PrefetchChunk(chunk); // see NextStream
                    Job.GemvPanel(row, panel);
                }
        }
    }

}
