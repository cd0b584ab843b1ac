namespace Qllm.Models.Llama;

/// <summary>
/// Converts Wq/Wk rows between RoPE layouts. llama2.c (and Meta's original LLaMA code) rotates
/// interleaved pairs (2j, 2j+1); HF LLaMA rotates halves (j, j + d/2). Both turn pair j by the same
/// angle, so moving row 2j+c of each head to row c·d/2 + j makes the rotate-half form compute the same thing.
/// </summary>
public static class RopeLayout
{
    /// <summary>Rows [heads·headDim, columns] from interleaved-pair order to rotate-half order.</summary>
    public static float[] InterleavedToRotateHalf(ReadOnlySpan<float> weight, int heads, int headDim, int columns)
    {
        var result = new float[weight.Length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
                for (int c = 0; c < 2; c++)
                {
                    int from = h * headDim + 2 * j + c, to = h * headDim + c * half + j;
                    weight.Slice(from * columns, columns).CopyTo(result.AsSpan(to * columns, columns));
                }
        return result;
    }
}
