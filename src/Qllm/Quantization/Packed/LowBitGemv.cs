using System.Runtime.CompilerServices;
using Qllm.Tensors;
using Qllm.Tensors.Kernels;

namespace Qllm.Quantization.Packed;

/// <summary>
/// Decode (rows &lt; 4) over the low-bit panels of up to <see cref="MaxLayers"/> layers that read the same input
/// (q/k/v, gate/up): their panels form one range, one contiguous chunk per thread, so the group forks once. Each
/// panel's codes are streamed once for all rows. Layer i's input rows were gathered into its own column order
/// (<see cref="LowBitPanels.PaddedColumns"/> apart) with their group sums.
/// </summary>
internal unsafe struct LowBitGemv : IParallelBody
{
    public const int MaxLayers = 4;
    private const long ParallelThreshold = 1L << 16;

    [InlineArray(MaxLayers)] private struct Layers { private LowBitPanels? _first; }
    [InlineArray(MaxLayers)] private struct Pointers { private nint _first; }
    [InlineArray(MaxLayers + 1)] private struct PanelStarts { private int _first; }

    private Layers _layers;
    private Pointers _inputs, _sums, _outputs, _slices, _sigmas;
    private PanelStarts _firstPanel;
    private int _count, _chunks;
    private long _work;
    private readonly int _rows;
    private readonly KernelPath _path;

    public LowBitGemv(int rows, KernelPath path)
    {
        _rows = rows;
        _path = path;
    }

    /// <summary>
    /// Adds a layer: x its gathered input rows, sums their group sums, y its output [rows, w.Rows]; for the VNNI
    /// 4-bit kernel (see <see cref="UsesVnni"/>) also the row's int8 slices and their σ's, else null.
    /// </summary>
    public void Add(LowBitPanels w, float* x, float* sums, float* y, sbyte* slices = null, float* sigmas = null)
    {
        if (_count == MaxLayers) throw new ArgumentException($"a batched low-bit GEMV takes at most {MaxLayers} layers.");
        _layers[_count] = w;
        _inputs[_count] = (nint)x;
        _sums[_count] = (nint)sums;
        _outputs[_count] = (nint)y;
        _slices[_count] = (nint)slices;
        _sigmas[_count] = (nint)sigmas;
        _firstPanel[_count + 1] = _firstPanel[_count] + w.Panels;
        _work += (long)_rows * w.Rows * w.Columns;
        _count++;
    }

    public void Run()
    {
        // Fixed once: Run(chunk) must split panels as the loop was sized, even if the thread count changes meanwhile.
        _chunks = Compute.StreamChunks(_firstPanel[_count]);
        Compute.For(_chunks, _work >= ParallelThreshold, ref this);
    }

    /// <summary>One chunk of the layers' concatenated panels, for all rows at once.</summary>
    public void Run(int chunk)
    {
        int panels = _firstPanel[_count];
        var (first, last) = Compute.Share(panels, chunk, _chunks);
        int layer = 0;
        for (int global = first; global < last; global++)
        {
            while (global >= _firstPanel[layer + 1]) layer++;
            Panel(_layers[layer]!, (float*)_inputs[layer], (float*)_sums[layer], (float*)_outputs[layer], (sbyte*)_slices[layer], (float*)_sigmas[layer], global - _firstPanel[layer]);
        }
    }

    /// <summary>Whether a layer's single-row GEMV takes <see cref="LowBit4VnniKernels"/> (4-bit codes, AVX-512 with VNNI).</summary>
    public static bool UsesVnni(LowBitPanels w, int rows, KernelPath path) =>
        rows == 1 && w.Bits == 4 && path == KernelPath.Avx512 && LowBit4VnniKernels.IsAvailable;

    private void Panel(LowBitPanels w, float* x, float* sums, float* y, sbyte* slices, float* sigmas, int panel)
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
            if (slices != null)
                LowBit4VnniKernels.Gemv32(slices, sigmas, sums, codes + (long)panel * w.Blocks * width, groupBlocks, w.Groups,
                    scales + vectors, zeros + vectors, output);
            else
                LowBitKernel.Gemv32(_path, x, w.PaddedColumns, sums, _rows, codes + (long)panel * w.Blocks * width,
                groupBlocks, w.Groups, w.Bits, scales + vectors, zeros + vectors, output);
        }
        for (int row = 0; row < _rows; row++)
            new Span<float>(output + row * width, columns).CopyTo(new Span<float>(y + (long)row * n + panel * width, columns));
    }
}
