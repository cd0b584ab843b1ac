using System.Runtime.Intrinsics;
using Qllm.Tensors.Kernels;

namespace Qllm.Tensors;

/// <summary>
/// Y[m, n] = s_x[m] · s_w[n] · Σ_k (a[m, k] − z_x[m]) · (c[n, k] − z_w[n]) + bias[n]: the W8A8 product of
/// <see cref="Int8Activations"/> and <see cref="Int8Panels"/>, with integer arithmetic exact and dequantization
/// fused into the store. The kernel multiplies the unsigned codes a by the signed c − 128 (vpdpbusd's operand
/// types), and the offsets come back through terms kept per row and per channel (the unsigned/signed offset trick):
/// Σ (a − z_x)(c − z_w) = Σ a·(c − 128) − z_x · Σ (c − 128) + (128 − z_w) · Σ (a − z_x).
/// With a symmetric weight grid (z_w = 128) the last term vanishes; a symmetric activation grid has z_x = 128, the
/// shift of int8 activations to u8 by +128. Any zero points are handled exactly, so asymmetric grids run too.
/// </summary>
/// <remarks>
/// Threads split the work by (row block, panel range) as the fp32 GEMM does; within a task each panel (32 channels
/// × all of k, 32·k bytes) stays in L2 while the row block's 8-row tiles pass over it, each tile covering all of k
/// in one kernel call (int8 operands are a quarter of fp32's bytes, so no k-blocking is needed for L2). Decode
/// (m &lt; 8) is the same loop with one partial tile: the kernel issues only the rows it has and streams each panel
/// once. Nothing is allocated per call.
/// </remarks>
public static unsafe class Int8Gemm
{
    private const int RowBlock = 128;
    private const long ParallelThreshold = 1L << 16;

    public static void Multiply(Int8Activations x, Int8Panels w, Span<float> y, ReadOnlySpan<float> bias = default)
    {
        int m = x.Rows, n = w.Rows;
        if (x.Columns != w.Columns) throw new ArgumentException($"int8 GEMM: activations have {x.Columns} columns, the weight {w.Columns}.");
        if (y.Length < (long)m * n) throw new ArgumentException($"int8 GEMM: output too small for m={m} n={n}.");
        if (!bias.IsEmpty && bias.Length < n) throw new ArgumentException("int8 GEMM: bias shorter than n.");
        if (m == 0 || n == 0) return;
        fixed (float* py = y, pb = bias)
        fixed (byte* pa = x.Codes)
        fixed (sbyte* pw = w.Data)
        {
            var job = new Job(x, w, pa, pw, py, pb, KernelSelector.Current);
            Compute.For(job.Tasks, (long)m * n * w.Columns >= ParallelThreshold, ref job);
        }
    }

    private readonly struct Job : IParallelBody
    {
        private readonly Int8Activations _x;
        private readonly Int8Panels _w;
        private readonly byte* _a;
        private readonly sbyte* _b;
        private readonly float* _y, _bias;
        private readonly KernelPath _path;
        private readonly int _rowBlocks, _panelChunks;

        public Job(Int8Activations x, Int8Panels w, byte* a, sbyte* b, float* y, float* bias, KernelPath path)
        {
            _x = x; _w = w; _a = a; _b = b; _y = y; _bias = bias; _path = path;
            // Fixed once: Run(task) must split the work as the loop was sized, even if the thread count changes meanwhile.
            int threads = Compute.Threads;
            _rowBlocks = (x.Rows + RowBlock - 1) / RowBlock;
            _panelChunks = _rowBlocks >= 2 * threads ? 1 : Math.Min(w.Panels, (4 * threads + _rowBlocks - 1) / _rowBlocks);
        }

        public int Tasks => _rowBlocks * _panelChunks;

        /// <summary>One task: a row block × a range of panels.</summary>
        public void Run(int task)
        {
            int block = task / _panelChunks;
            var (p0, p1) = Compute.Share(_w.Panels, task % _panelChunks, _panelChunks);
            int r0 = block * RowBlock, r1 = Math.Min(_x.Rows, r0 + RowBlock);
            int k4 = _w.KGroups;
            int* acc = stackalloc int[Int8Kernel.Rows * Int8Kernel.Columns];
            for (int panel = p0; panel < p1; panel++)
            {
                sbyte* b = _b + (long)panel * k4 * Int8Kernel.Columns * Int8Kernel.KGroup;
                for (int row = r0; row < r1; row += Int8Kernel.Rows)
                {
                    int rows = Math.Min(Int8Kernel.Rows, r1 - row);
                    Int8Kernel.Tile(_path, _a + (long)row * k4 * Int8Kernel.KGroup, b, k4, rows, acc);
                    Store(acc, row, rows, panel * Int8Kernel.Columns);
                }
            }
        }

        /// <summary>The tile's int32 sums, offset-corrected and dequantized into Y (the formula of <see cref="Int8Gemm"/>).</summary>
        private void Store(int* acc, int row0, int rows, int n0)
        {
            int n = _w.Rows, columns = Math.Min(Int8Kernel.Columns, n - n0);
            fixed (int* codeSums = _w.CodeSums, zeroOffsets = _w.ZeroOffsets)
            fixed (float* weightScales = _w.Scales)
            {
                int* sums = codeSums + n0, offsets = zeroOffsets + n0;
                float* scales = weightScales + n0, bias = _bias == null ? null : _bias + n0;
                for (int r = 0; r < rows; r++, acc += Int8Kernel.Columns)
                {
                    int row = row0 + r, zero = _x.Zeros[row], sum = _x.Sums[row];
                    float scale = _x.Scales[row];
                    float* y = _y + (long)row * n + n0;
                    int j = 0;
                    for (; j + 8 <= columns; j += 8)
                    {
                        var exact = Vector256.Load(acc + j) - Vector256.Load(sums + j) * zero + Vector256.Load(offsets + j) * sum;
                        var value = Vector256.ConvertToSingle(exact) * (Vector256.Load(scales + j) * scale);
                        if (bias != null) value += Vector256.Load(bias + j);
                        value.Store(y + j);
                    }
                    for (; j < columns; j++)
                    {
                        int exact = acc[j] - sums[j] * zero + offsets[j] * sum;
                        float value = exact * (scales[j] * scale);
                        y[j] = bias != null ? value + bias[j] : value;
                    }
                }
            }
        }
    }
}
