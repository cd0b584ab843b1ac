namespace Qllm.Quantization;

/// <summary>
/// Integer codes of a weight matrix [Rows = out features, Columns = in features] with one grid per
/// (row, group): what a packed layer or a GPTQ checkpoint stores. weight[r, c] ≈ scale[r, g] · (code[r, c] − zero[r, g])
/// with g = <see cref="GroupOf"/>(c).
/// </summary>
/// <param name="Codes">One code per weight, row-major [Rows, Columns], each in 0..2^bits − 1.</param>
/// <param name="Scales">Row-major [Rows, Groups].</param>
/// <param name="Zeros">Row-major [Rows, Groups]; integral values (GPTQ rounds its zero points).</param>
/// <param name="GroupIndex">
/// GPTQ's g_idx: the group of each input column. Null means the contiguous layout c / GroupSize. With
/// act-order and dynamic groups, groups are formed in the permuted column order, so g_idx is not monotone.
/// </param>
public sealed record QuantizedWeight(int Rows, int Columns, QuantSpec Spec, byte[] Codes, float[] Scales, float[] Zeros, int[]? GroupIndex = null)
{
    public int GroupSize => Spec.GroupSize > 0 ? Spec.GroupSize : Columns;
    public int Groups => (Columns + GroupSize - 1) / GroupSize;

    public int GroupOf(int column) => GroupIndex?[column] ?? column / GroupSize;

    /// <summary>g_idx as stored in a GPTQ checkpoint: <see cref="GroupIndex"/> or the contiguous layout.</summary>
    public int[] GroupIndexOrContiguous() => GroupIndex ?? Enumerable.Range(0, Columns).Select(c => c / GroupSize).ToArray();

    public float[] Dequantize()
    {
        var weight = new float[Rows * Columns];
        int groups = Groups;
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
            {
                int g = r * groups + GroupOf(c);
                weight[r * Columns + c] = Scales[g] * (Codes[r * Columns + c] - Zeros[g]);
            }
        return weight;
    }
}
