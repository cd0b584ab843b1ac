using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Qllm.Models.KvCache;
using Qllm.Tensors;
using Qllm.Tensors.Kernels;

namespace Qllm.Models.Layers;

/// <summary>
/// Causal scaled-dot-product attention with grouped-query heads (Ainslie et al. 2023), tiled as in
/// FlashAttention (Dao et al. 2022): for a tile of 8 queries, keys are visited in blocks of 32; the scores
/// S = Q·Kᵀ (8×32) come from the GEMM micro-kernel (over the keys transposed once per head and call: the
/// cache keeps them by row, which a decode step writes and reads fastest), a running maximum and sum
/// per query give the softmax online, and O += P·V uses the micro-kernel again (values cached by row).
/// No T×T matrix exists at any point. A decode step (one query per sequence) takes a GEMV-shaped path instead.
/// Query head h reads KV head h / (numHeads / numKvHeads), as HF's repeat_kv.
/// </summary>
public static unsafe class CausalAttention
{
    private const int QueryTile = 8;
    private const int KeyBlock = 32;
    private const long ParallelWork = 1 << 12;

    public readonly record struct Shape(int Batch, int SeqLen, int StartPosition, int NumHeads, int NumKvHeads, int HeadDim, int? SlidingWindow)
    {
        public int QDim => NumHeads * HeadDim;

        /// <summary>Query heads per KV head (grouped-query attention): head h reads KV head h / KvGroup.</summary>
        public int KvGroup => NumHeads / NumKvHeads;
    }

    /// <param name="queries">[batch·seqLen, numHeads·headDim], RoPE already applied.</param>
    /// <param name="cache">Holds this call's keys and values at positions [StartPosition, StartPosition + SeqLen).</param>
    /// <param name="output">[batch·seqLen, numHeads·headDim].</param>
    public static void Run(float[] queries, IKvCacheLayer cache, Shape shape, float[] output)
    {
        int heads = shape.Batch * shape.NumHeads, total = shape.StartPosition + shape.SeqLen;
        // Forked from a few thousand multiply-adds: in decode the keys and values come from DRAM (the weights'
        // stream evicts them), so two threads keep twice the misses in flight even when the arithmetic is small.
        // A W4 110M decode step (12 heads of 64) forked only past 85 positions at 1 << 16; forking past 5 cut its
        // attention from 0.385 to 0.355 ms a token (256 tokens, in turns in one process).
        bool parallel = (long)heads * shape.SeqLen * total * shape.HeadDim > ParallelWork;
        if (shape.SeqLen == 1)
        {
            // Decode: one contiguous range of heads per thread, as the GEMVs split their panels. Handing out 12
            // heads one at a time took an atomic increment per head on a line the other core had just written;
            // ranges took W4 110M decode from 419 to 434 tokens/s (median gain 2.3%, 17 rounds in turns).
            int chunks = Compute.StreamChunks(heads);
            var decode = new DecodeHeads(queries, cache, shape, output, chunks, KernelSelector.Current);
            Compute.For(chunks, parallel, ref decode);
            return;
        }
        int tiles = (shape.SeqLen + QueryTile - 1) / QueryTile;
        // Enough tasks to balance the threads; a task takes every slots-th tile, so causal work evens out.
        int slots = Math.Clamp(4 * Compute.Threads / heads, 1, tiles);
        var body = new HeadTasks(queries, cache, shape, output, slots, KernelSelector.Current);
        Compute.For(heads * slots, parallel, ref body);
    }

    /// <summary>
    /// Decode asks the KV cache for the first 1 KB of every head a thread reads at once, so that each head's own
    /// reads find theirs under way (see <see cref="NextHeadBytes"/> for what these prefetches gain).
    /// </summary>
    public const int HeadStartBytes = 1024;

    /// <summary>
    /// Decode asks for this much more of the thread's first head at once, and of each next KV head while it reads
    /// the one before: a head's keys and values come from DRAM (the weights' stream evicts them), and a head of 64
    /// reads its ~30 KB in ~1 µs, so the next one's misses are best under way meanwhile. With all of decode
    /// attention's prefetches, W4 110M decode ran a median 1.1% faster than with none, fp32 decode unchanged (26
    /// rounds in one process, the models' turns alternating so that no turn followed one of its own model).
    /// </summary>
    public const int NextHeadBytes = 16384;

    /// <summary>Chunk c: the c-th of <paramref name="chunks"/> near-equal ranges of (sequence, head) pairs, one query each.</summary>
    private readonly struct DecodeHeads(float[] queries, IKvCacheLayer cache, Shape shape, float[] output, int chunks, KernelPath path) : IParallelBody
    {
        public void Run(int chunk)
        {
            var (first, last) = Compute.Share(shape.Batch * shape.NumHeads, chunk, chunks);
            int group = shape.KvGroup;
            for (int head = first; head < last; head++)
                if (head == first || head % group == 0)
                    PrefetchHead(head, head == first ? NextHeadBytes : HeadStartBytes);
            for (int head = first; head < last; head++)
            {
                if (head + 1 < last && (head + 1) % group == 0) PrefetchHead(head + 1, NextHeadBytes);
                HeadTiles(queries, cache, shape, output, head / shape.NumHeads, head % shape.NumHeads, 0, 1, path);
            }
        }

        private void PrefetchHead(int head, int bytes) =>
            cache.Prefetch(head / shape.NumHeads, head % shape.NumHeads / shape.KvGroup, shape.StartPosition + shape.SeqLen, bytes);
    }

    /// <summary>Task t: head t / slots, every slots-th query tile from t % slots.</summary>
    private readonly struct HeadTasks(float[] queries, IKvCacheLayer cache, Shape shape, float[] output, int slots, KernelPath path) : IParallelBody
    {
        public void Run(int task)
        {
            int head = task / slots;
            HeadTiles(queries, cache, shape, output, head / shape.NumHeads, head % shape.NumHeads, task % slots, slots, path);
        }
    }

    private static void HeadTiles(float[] queries, IKvCacheLayer cache, Shape s, float[] output, int sequence, int head,
        int firstTile, int tileStep, KernelPath path)
    {
        int hd = s.HeadDim, total = s.StartPosition + s.SeqLen, padded = IKvCacheLayer.PaddedLength(total);
        int kvHead = head / s.KvGroup;
        float scale = 1f / MathF.Sqrt(hd);
        float[] keyScratch = ThreadScratch.Get(0, hd * padded), valueScratch = ThreadScratch.Get(1, hd * padded);
        float[] work = ThreadScratch.Get(2, Math.Max(QueryTile * hd * 2 + QueryTile * KeyBlock + 2 * QueryTile, hd + padded));
        {
            var keys = cache.ReadKeys(sequence, kvHead, total, keyScratch, out int keyStride);
            var values = cache.ReadValues(sequence, kvHead, total, valueScratch, out int valueStride);
            fixed (float* keyRows = keys, v = values, q = queries, o = output, buffers = work)
            {
                if (s.SeqLen == 1)
                {
                    long at = (long)sequence * s.QDim + head * hd;
                    SingleQuery(q + at, keyRows, keyStride, v, valueStride, o + at, buffers, hd, scale, s.StartPosition, s.SlidingWindow, path);
                    return;
                }
                // The micro-kernel takes Kᵀ (feature-major): one transposition per head serves all its query tiles,
                // ~1/8 of the score products' own cost at the smallest tile count and far less in a long prefill.
                float[] transposed = ThreadScratch.Get(ThreadScratch.TransposedKeysSlot, hd * padded);
                fixed (float* k = transposed)
                {
                    Transpose(keyRows, keyStride, padded, hd, k);
                    Tiles(k, padded, v, valueStride, q, o, buffers, s, scale, sequence, head, firstTile, tileStep, path);
                }
            }
        }
    }

    /// <summary>The query tiles firstTile, firstTile + tileStep, … of one head, over its transposed keys kᵀ (stride keyStride).</summary>
    private static void Tiles(float* k, int keyStride, float* v, int valueStride, float* q, float* o, float* buffers, Shape s,
        float scale, int sequence, int head, int firstTile, int tileStep, KernelPath path)
    {
        int hd = s.HeadDim;
        float* qPack = buffers, acc = qPack + QueryTile * hd, scores = acc + QueryTile * hd,
            max = scores + QueryTile * KeyBlock, sum = max + QueryTile;
        int tiles = (s.SeqLen + QueryTile - 1) / QueryTile;
        for (int tile = firstTile; tile < tiles; tile += tileStep)
        {
            int t0 = tile * QueryTile, rows = Math.Min(QueryTile, s.SeqLen - t0);
            long rowBase = (long)(sequence * s.SeqLen + t0) * s.QDim + head * hd;
            PackQueries(q + rowBase, s.QDim, rows, hd, scale, qPack);
            new Span<float>(acc, QueryTile * hd).Clear();
            new Span<float>(max, QueryTile).Fill(float.NegativeInfinity);
            new Span<float>(sum, QueryTile).Clear();

            int firstPosition = s.StartPosition + t0, lastPosition = firstPosition + rows - 1;
            int lowest = s.SlidingWindow is int window ? Math.Max(0, firstPosition - window + 1) : 0;
            for (int j0 = lowest / KeyBlock * KeyBlock; j0 <= lastPosition; j0 += KeyBlock)
            {
                Kernel.Tile8x32(path, qPack, k + j0, keyStride, hd, scores, KeyBlock, accumulate: false);
                OnlineSoftmax(scores, acc, max, sum, rows, hd, firstPosition, j0, s.SlidingWindow);
                AccumulateValues(path, scores, v + (long)j0 * valueStride, valueStride, hd, acc);
            }
            for (int i = 0; i < rows; i++)
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(acc + i * hd, hd), 1f / sum[i],
                    new Span<float>(o + rowBase + (long)i * s.QDim, hd));
        }
    }

    /// <summary>
    /// Decode: one query at <paramref name="position"/> against every visible key. The whole score row fits in
    /// scratch (one float per position), so the softmax is the plain two-pass one; the query is pre-scaled by
    /// 1/√d as in the tiled path.
    /// </summary>
    private static void SingleQuery(float* query, float* k, int keyStride, float* v, int valueStride, float* output,
        float* buffers, int hd, float scale, int position, int? window, KernelPath path)
    {
        int first = window is int w ? Math.Max(0, position - w + 1) : 0, count = position + 1 - first;
        float* scaled = buffers, scores = buffers + hd;
        TensorPrimitives.Multiply(new ReadOnlySpan<float>(query, hd), scale, new Span<float>(scaled, hd));
        SingleQueryKernels.Scores(path, scaled, k + (long)first * keyStride, keyStride, hd, count, scores, v + (long)first * valueStride, valueStride);
        var row = new Span<float>(scores, count);
        float max = TensorPrimitives.Max(row);
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp(row, row);
        float sum = TensorPrimitives.Sum(row);
        SingleQueryKernels.WeightedValues(path, scores, v + (long)first * valueStride, valueStride, count, hd, output);
        TensorPrimitives.Multiply(new ReadOnlySpan<float>(output, hd), 1f / sum, new Span<float>(output, hd));
    }

    /// <summary>
    /// transposed[d·rows + j] = keys[j·stride + d] for j in [0, rows), d in [0, hd); rows is a multiple of 32. Blocks
    /// of 16 positions: their rows stay in L1 while each feature's 16 values fill one output line. (Position by
    /// position, every store would land a whole output row away, on the same few cache sets.)
    /// </summary>
    private static void Transpose(float* keys, int stride, int rows, int hd, float* transposed)
    {
        for (int j0 = 0; j0 < rows; j0 += 16)
        {
            float* block = keys + (long)j0 * stride;
            for (int d = 0; d < hd; d++)
            {
                float* line = transposed + (long)d * rows + j0;
                for (int i = 0; i < 16; i++) line[i] = block[(long)i * stride + d];
            }
        }
    }

    /// <summary>Queries of the tile, pre-scaled by 1/√d, k-major (8 values per feature); missing rows are zero.</summary>
    private static void PackQueries(float* q, int rowStride, int rows, int hd, float scale, float* pack)
    {
        for (int i = 0; i < QueryTile; i++)
            for (int d = 0; d < hd; d++)
                pack[d * QueryTile + i] = i < rows ? q[(long)i * rowStride + d] * scale : 0f;
    }

    /// <summary>
    /// Masks the block's scores (causal, sliding window), folds them into each row's running max m and sum l,
    /// rescales the accumulated output by exp(m_old − m_new), and leaves P = exp(S − m_new) in place of S.
    /// </summary>
    private static void OnlineSoftmax(float* scores, float* acc, float* max, float* sum, int rows, int hd,
        int firstPosition, int j0, int? window)
    {
        for (int i = 0; i < QueryTile; i++)
        {
            var row = new Span<float>(scores + i * KeyBlock, KeyBlock);
            int position = firstPosition + i;
            int low = window is int w ? position - w + 1 : 0;
            if (i >= rows || position < j0 || low > j0 + KeyBlock - 1)
            {
                row.Clear(); // no visible key in this block for this row
                continue;
            }
            if (position < j0 + KeyBlock - 1) row[(position - j0 + 1)..].Fill(float.NegativeInfinity);
            if (low > j0) row[..(low - j0)].Fill(float.NegativeInfinity);

            float* r = scores + i * KeyBlock;
            float blockMax = Vector512.IsHardwareAccelerated ? HorizontalMax(Vector512.Max(Vector512.Load(r), Vector512.Load(r + 16))) : TensorPrimitives.Max(row);
            float newMax = MathF.Max(max[i], blockMax);
            float correction = MathF.Exp(max[i] - newMax); // 0 on the first visible block (max = −∞)
            float blockSum;
            if (Vector512.IsHardwareAccelerated)
            {
                // A 32-key row is two registers: exp inline rather than through per-call span machinery.
                var m = Vector512.Create(newMax);
                var p0 = Vector512.Exp(Vector512.Load(r) - m);
                var p1 = Vector512.Exp(Vector512.Load(r + 16) - m);
                p0.Store(r);
                p1.Store(r + 16);
                blockSum = Vector512.Sum(p0 + p1);
            }
            else
            {
                TensorPrimitives.Subtract(row, newMax, row);
                TensorPrimitives.Exp(row, row);
                blockSum = TensorPrimitives.Sum(row);
            }
            sum[i] = sum[i] * correction + blockSum;
            max[i] = newMax;
            if (correction != 1f) TensorPrimitives.Multiply(new Span<float>(acc + i * hd, hd), correction, new Span<float>(acc + i * hd, hd));
        }
    }

    private static float HorizontalMax(Vector512<float> v)
    {
        var half = Vector256.Max(v.GetLower(), v.GetUpper());
        var quarter = Vector128.Max(half.GetLower(), half.GetUpper());
        return MathF.Max(MathF.Max(quarter[0], quarter[1]), MathF.Max(quarter[2], quarter[3]));
    }

    /// <summary>acc[8, hd] += P[8, 32] · V[32, hd] (P row-major), 32 features at a time through the micro-kernel; narrow heads by rows.</summary>
    private static void AccumulateValues(KernelPath path, float* probabilities, float* v, int valueStride, int hd, float* acc)
    {
        int d0 = 0;
        for (; d0 + 32 <= hd; d0 += 32)
            Kernel.Tile8x32Strided(path, probabilities, KeyBlock, 1, v + d0, valueStride, KeyBlock, acc + d0, hd, accumulate: true);
        if (d0 == hd) return;
        for (int jj = 0; jj < KeyBlock; jj++)
        {
            float* valueRow = v + (long)jj * valueStride;
            for (int i = 0; i < QueryTile; i++)
            {
                float p = probabilities[i * KeyBlock + jj];
                if (p == 0f) continue;
                float* a = acc + i * hd;
                int d = d0;
                if (Vector256.IsHardwareAccelerated)
                    for (; d + 8 <= hd; d += 8)
                        Vector256.FusedMultiplyAdd(Vector256.Create(p), Vector256.Load(valueRow + d), Vector256.Load(a + d)).Store(a + d);
                for (; d < hd; d++) a[d] += p * valueRow[d];
            }
        }
    }
}
