using System.Runtime.CompilerServices;
using Qllm.Tensors;
using Qllm.Tensors.Kernels;

namespace Qllm.Quantization.Packed;

/// <summary>
/// Decode (rows &lt; 4) over the low-bit panels of up to <see cref="MaxLayers"/> layers that read the same input
/// (q/k/v, gate/up): their panels form one range, one contiguous chunk per thread, so the group forks once. Each
/// panel's codes are streamed once for all rows.
/// <para>
/// Each thread prepares the input its chunk reads in its own scratch buffer: the rows gathered into the layer's
/// column order with their group sums (<see cref="LowBitGather"/>), and for the VNNI kernel their int8 slices. The
/// work is repeated on every thread (a few microseconds), but nothing a thread writes is read by another: when the
/// calling thread prepared once for all, every worker then read those lines from the caller's cache, and the caller
/// rewrote lines the workers still held at the next layer, each a cross-core transfer, which on this machine's
/// slower core pairings cost more than the preparation itself.
/// </para>
/// </summary>
internal unsafe struct LowBitGemv : IParallelBody
{
    public const int MaxLayers = 4;
    private const long ParallelThreshold = 1L << 16;

    [InlineArray(MaxLayers)] private struct Layers { private LowBitPanels? _first; }
    [InlineArray(MaxLayers)] private struct Pointers { private nint _first; }
    [InlineArray(MaxLayers)] private struct Indices { private int _first; }
    [InlineArray(MaxLayers + 1)] private struct PanelStarts { private int _first; }

    private Layers _layers;
    private Pointers _inputs, _outputs;
    private Indices _layouts; // the first layer whose input layout this layer shares: layers with one layout share one prepared input
    private PanelStarts _firstPanel;
    private int _count, _chunks, _inputFloats;
    private long _work;
    private readonly int _rows;
    private readonly KernelPath _path;

    public LowBitGemv(int rows, KernelPath path)
    {
        _rows = rows;
        _path = path;
    }

    /// <summary>Adds a layer: x its input rows [rows, w.Columns] in the model's column order, y its output [rows, w.Rows].</summary>
    public void Add(LowBitPanels w, float* x, float* y)
    {
        if (_count == MaxLayers) throw new ArgumentException($"a batched low-bit GEMV takes at most {MaxLayers} layers.");
        _layers[_count] = w;
        _inputs[_count] = (nint)x;
        _outputs[_count] = (nint)y;
        _layouts[_count] = _count > 0 && _inputs[_count - 1] == (nint)x && w.SharesInputLayout(_layers[_count - 1]!) ? _layouts[_count - 1] : _count;
        _firstPanel[_count + 1] = _firstPanel[_count] + w.Panels;
        _inputFloats = Math.Max(_inputFloats, PreparedInput.Floats(w, _rows, _path));
        _work += (long)_rows * w.Rows * w.Columns;
        _count++;
    }

    public void Run()
    {
        bool parallel = _work >= ParallelThreshold;
        // Fixed once: Run(chunk) must split panels as the loop was sized, even if the thread count changes meanwhile.
        // A serial loop is one chunk, so its inputs are prepared once.
        _chunks = parallel ? Compute.StreamChunks(_firstPanel[_count]) : 1;
        Compute.For(_chunks, parallel, ref this);
    }

    /// <summary>One chunk of the layers' concatenated panels, for all rows at once.</summary>
    public void Run(int chunk)
    {
        var (first, last) = Compute.Share(_firstPanel[_count], chunk, _chunks);
        // Per thread, and only this thread's: see the type's remarks.
        float[] scratch = ThreadScratch.Get(ThreadScratch.GemvInputSlot, _inputFloats);
        fixed (float* buffer = scratch)
        {
            var input = default(PreparedInput);
            int layer = 0, prepared = -1;
            for (int global = first; global < last; global++)
            {
                while (global >= _firstPanel[layer + 1]) layer++;
                var w = _layers[layer]!;
                if (_layouts[layer] != prepared)
                {
                    input = PreparedInput.Prepare(w, (float*)_inputs[layer], _rows, _path, buffer);
                    prepared = _layouts[layer];
                }
                Panel(w, input, (float*)_outputs[layer], global - _firstPanel[layer]);
            }
        }
    }

    /// <summary>Whether a layer's single-row GEMV takes <see cref="LowBit4VnniKernels"/> (4-bit codes, AVX-512 with VNNI).</summary>
    public static bool UsesVnni(LowBitPanels w, int rows, KernelPath path) =>
        rows == 1 && w.Bits == 4 && path == KernelPath.Avx512 && LowBit4VnniKernels.IsAvailable;

    private void Panel(LowBitPanels w, in PreparedInput input, float* y, int panel)
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
            if (input.Slices != null)
                LowBit4VnniKernels.Gemv32(input.Slices, input.Sigmas, input.Sums, codes + panel * w.PanelWords, groupBlocks, w.Groups,
                    scales + vectors, zeros + vectors, output);
            else
                LowBitKernel.Gemv32(_path, input.Rows, w.PaddedColumns, input.Sums, _rows, codes + panel * w.PanelWords,
                    groupBlocks, w.Groups, w.Bits, scales + vectors, zeros + vectors, output);
        }
        for (int row = 0; row < _rows; row++)
            new Span<float>(output + row * width, columns).CopyTo(new Span<float>(y + (long)row * n + panel * width, columns));
    }
}
