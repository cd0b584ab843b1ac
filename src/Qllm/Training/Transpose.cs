namespace Qllm.Training;

/// <summary>Transposes for the backward passes, which feed the GEMM (A·Bᵀ with a row-major B) the operands it wants.</summary>
public static class Transpose
{
    /// <summary>The [columns, rows] transpose of a row-major [rows, columns] matrix, into <paramref name="result"/>.</summary>
    public static void Into(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> result)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = matrix[r * columns + c];
    }

    public static float[] Of(ReadOnlySpan<float> matrix, int rows, int columns)
    {
        var result = GC.AllocateUninitializedArray<float>(rows * columns);
        Into(matrix, rows, columns, result);
        return result;
    }
}
