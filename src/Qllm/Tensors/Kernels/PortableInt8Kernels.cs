namespace Qllm.Tensors.Kernels;

/// <summary>Scalar int8 tile: the definition the vector paths must reproduce exactly.</summary>
internal static unsafe class PortableInt8Kernels
{
    /// <summary>c[r·32 + j] = Σ_k a[r, k] · b[k, j] for r &lt; rows (layouts in <see cref="Int8Kernel"/>).</summary>
    public static void Tile(byte* a, sbyte* b, int k4, int rows, int* c)
    {
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < 32; j++)
            {
                int sum = 0;
                for (int p = 0; p < k4; p++)
                    for (int t = 0; t < 4; t++) sum += a[p * 32 + 4 * r + t] * b[p * 128 + 4 * j + t];
                c[r * 32 + j] = sum;
            }
    }
}
