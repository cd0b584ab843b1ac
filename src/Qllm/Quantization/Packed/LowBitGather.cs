using System.Numerics.Tensors;

namespace Qllm.Quantization.Packed;

/// <summary>
/// The GEMV's input rows in the panels' column order: group order (act-order's permutation), each group
/// zero-padded to whole words, rows <see cref="LowBitPanels.PaddedColumns"/> apart; and each group's sum, as
/// <c>LowBitKernel.Gemv32</c> expects.
/// </summary>
internal static class LowBitGather
{
    public static void Row(LowBitPanels w, ReadOnlySpan<float> row, Span<float> destination, Span<float> groupSums)
    {
        int perWord = w.CodesPerWord;
        int[] columns = w.GroupColumns, blocks = w.GroupBlocks;
        int[]? order = w.Order;
        for (int g = 0; g < w.Groups; g++)
        {
            int length = columns[g + 1] - columns[g];
            var target = destination.Slice(blocks[g] * perWord, (blocks[g + 1] - blocks[g]) * perWord);
            if (order == null) row.Slice(columns[g], length).CopyTo(target);
            else
                for (int j = 0; j < length; j++) target[j] = row[order[columns[g] + j]];
            target[length..].Clear();
            groupSums[g] = TensorPrimitives.Sum<float>(target[..length]);
        }
    }
}
