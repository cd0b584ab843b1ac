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
    private ChunkPlan _plan;
    private int _count, _inputFloats;
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
        // Fixed once: Run(chunk) must split panels as the loop was planned, even if the thread count or the learned
        // split (StreamBalance) changes meanwhile.
        // A serial loop is one chunk, so its inputs are prepared once.
        int panels = _firstPanel[_count];
        _plan.Plan(_layers[0]!.Balance, panels, parallel ? Compute.StreamChunks(panels) : 1);
        if (parallel) FollowPrevious();
        Compute.For(_plan.Chunks, parallel, ref this);
        _plan.Learn();
    }

    /// <summary>One chunk of the layers' concatenated panels, for all rows at once.</summary>
    public void Run(int chunk)
    {
        var (first, last) = _plan[chunk];
        // Per thread, and only this thread's: see the type's remarks.
        float[] scratch = ThreadScratch.Get(ThreadScratch.GemvInputSlot, _inputFloats);
        if (first < last) PrefetchStart(first);
        int prefetchBefore = PrefetchingPanels(first, last);
        fixed (float* buffer = scratch)
        {
            var input = default(PreparedInput);
            int layer = 0, prepared = -1;
            for (int global = first; global < last; global++)
            {
                // Where this chunk's own prefetches end, the next GEMV's chunk on this thread begins (see NextStream).
                if (global == prefetchBefore) _layers[0]!.Next.PrefetchChunk(chunk);
                while (global >= _firstPanel[layer + 1]) layer++;
                var w = _layers[layer]!;
                if (_layouts[layer] != prepared)
                {
                    input = PreparedInput.Prepare(w, (float*)_inputs[layer], _rows, _path, buffer);
                    prepared = _layouts[layer];
                }
                Panel(w, input, (float*)_outputs[layer], global - _firstPanel[layer], prefetch: global < prefetchBefore);
            }
        }
        _plan.Finished(chunk);
    }

    /// <summary>Tells the previous GEMV forked on this thread where this one's chunks start (<see cref="NextStream"/>).</summary>
    private readonly void FollowPrevious()
    {
        NextStream.Follow(_layers[0]!.Next, StreamParts(stackalloc NextStream.Part[MaxLayers]), _plan.Starts(stackalloc int[_plan.Chunks]));
    }

    /// <summary>The layers' codes as the parts of one stream, in <paramref name="parts"/>.</summary>
    private readonly ReadOnlySpan<NextStream.Part> StreamParts(Span<NextStream.Part> parts)
    {
        for (int i = 0; i < _count; i++) parts[i] = _layers[i]!.StreamPart;
        return parts[.._count];
    }

    /// <summary>
    /// Asks for the first 48 KB of the chunk's codes while the thread prepares its input: the kernels prefetch a
    /// fixed distance ahead of the block they read, so a chunk's first blocks would otherwise wait for DRAM, once per
    /// chunk and ~50 chunks a token. The previous GEMV's tail has usually asked for the first 32 KB already
    /// (<see cref="NextStream"/>); those prefetches are then cheap hits, and the rest keeps DRAM busy during the
    /// preparation. W4 110M decode, in turns in one process: with no start prefetch at all, 8 and 16 KB here ran 4%
    /// faster and 32 KB 2%; once the tails asked for the next chunks, 48 KB ran a median 4.2% faster than 16 KB
    /// (32 KB 3.6%, 64 KB 3.5%; 40 rounds each).
    /// </summary>
    private readonly void PrefetchStart(int firstPanel)
    {
        const long bytes = 49152;
        var (start, held) = NextStream.Locate(StreamParts(stackalloc NextStream.Part[MaxLayers]), firstPanel);
        CacheWarming.Prefetch((void*)start, Math.Min(bytes, held));
    }

    /// <summary>
    /// The chunk's panels before the returned one prefetch their codes ahead; the rest (the last
    /// <see cref="LowBit4VnniEmitter.PrefetchBytes"/> of the chunk) do not, since their prefetches would land past
    /// the chunk's end: on the next thread's codes, which it has already read, or on whatever array follows.
    /// That was 32 KB of each chunk's ~0.1–0.5 MB fetched for nothing; W4 110M decode ran a median 2.3% faster
    /// without it (18 rounds in turns in one process).
    /// </summary>
    private readonly int PrefetchingPanels(int first, int last)
    {
        int panel = last, layer = _count - 1;
        long tail = 0;
        while (panel > first && tail < LowBit4VnniEmitter.PrefetchBytes)
        {
            panel--;
            while (panel < _firstPanel[layer]) layer--;
            tail += 4 * _layers[layer]!.PanelWords;
        }
        return panel;
    }

    /// <summary>Whether a layer's single-row GEMV takes <see cref="LowBit4VnniKernels"/> (4-bit codes, AVX-512 with VNNI).</summary>
    public static bool UsesVnni(LowBitPanels w, int rows, KernelPath path) =>
        rows == 1 && w.Bits == 4 && path == KernelPath.Avx512 && LowBit4VnniKernels.IsAvailable;

    private void Panel(LowBitPanels w, in PreparedInput input, float* y, int panel, bool prefetch)
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
                    scales + vectors, zeros + vectors, output, prefetch);
            else
                LowBitKernel.Gemv32(_path, input.Rows, w.PaddedColumns, input.Sums, _rows, codes + panel * w.PanelWords,
                    groupBlocks, w.Groups, w.Bits, scales + vectors, zeros + vectors, output);
        }
        for (int row = 0; row < _rows; row++)
            new Span<float>(output + row * width, columns).CopyTo(new Span<float>(y + (long)row * n + panel * width, columns));
    }
}
