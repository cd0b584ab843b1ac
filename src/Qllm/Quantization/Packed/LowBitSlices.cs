using Qllm.Tensors;
using Qllm.Tensors.Kernels;

namespace Qllm.Quantization.Packed;

/// <summary>
/// Prefill's view of low-bit panels: each k-block × 32 slice dequantized to fp32 into the GEMM's per-thread
/// scratch buffer, group run by group run. K-blocks are whole blocks of codes (a multiple of perWord k-steps).
/// </summary>
internal readonly unsafe struct LowBitSlices(LowBitPanels w, KernelPath path) : IPanelSlices
{
    public int Panels => w.Panels;
    public int KBlock => Math.Max(1, Gemm.KBlock / w.CodesPerWord) * w.CodesPerWord;
    public bool NeedsScratch => true;

    /// <summary><see cref="LowBitPanels.SourceColumns"/>: pinned, so the pointer outlives `fixed`.</summary>
    public int* ColumnMap
    {
        get
        {
            if (w.SourceColumns == null) return null;
            fixed (int* map = w.SourceColumns) return map;
        }
    }

    /// <summary>
    /// Each task dequantizes every slice of its panels once per row block: twice fp32's rows per block halves that
    /// work (about 4% of a 512-row prefill at 128), while 256 rows × a k-block of activations (256 KB) still fit in L2.
    /// </summary>
    public int RowBlock => 2 * Gemm.RowBlock;

    public float* Slice(int panel, int k0, int kc, float* scratch)
    {
        const int width = LowBitPanels.Width;
        int perWord = w.CodesPerWord, first = k0 / perWord, end = first + kc / perWord;
        int[] groupBlocks = w.GroupBlocks;
        int g = GroupOf(groupBlocks, w.Groups, first);
        fixed (uint* codes = w.Codes)
        fixed (float* scales = w.Scales, zeros = w.Zeros)
        {
            for (int block = first; block < end; g++)
            {
                int run = Math.Min(groupBlocks[g + 1], end) - block;
                if (run <= 0) continue; // an empty group
                long vectors = ((long)panel * w.Groups + g) * width;
                LowBitKernel.Dequantize(path, codes + ((long)panel * w.Blocks + block) * width, run, w.Bits, scales + vectors, zeros + vectors,
                    scratch + (long)(block - first) * perWord * width);
                block += run;
            }
        }
        return scratch;
    }

    /// <summary>The last group starting at or before the block (binary search over the group table).</summary>
    private static int GroupOf(int[] groupBlocks, int groups, int block)
    {
        int low = 0, high = groups - 1;
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (groupBlocks[middle] <= block) low = middle;
            else high = middle - 1;
        }
        return low;
    }
}
