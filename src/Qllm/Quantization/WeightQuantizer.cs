using Qllm.Tensors;

namespace Qllm.Quantization;

/// <summary>
/// Round-to-nearest quantization of a weight matrix [rows = out features, columns = in features]:
/// each row, or each group of <see cref="QuantSpec.GroupSize"/> columns of a row, gets its own grid.
/// </summary>
public static class WeightQuantizer
{
    /// <summary>Replaces each weight by its value on the grid (fake quantization), in place.</summary>
    public static void FakeQuantize(float[] weight, int rows, int columns, QuantSpec spec)
    {
        CheckShape(weight.Length, rows, columns);
        int group = spec.GroupSize > 0 ? spec.GroupSize : columns;
        Compute.For(rows, (long)rows * columns > 1 << 16, r =>
        {
            for (int start = 0; start < columns; start += group)
            {
                var segment = weight.AsSpan(r * columns + start, Math.Min(group, columns - start));
                var grid = FindGrid(segment, spec);
                for (int i = 0; i < segment.Length; i++) segment[i] = grid.Quantize(segment[i]);
            }
        });
    }

    /// <summary>Integer codes with their scales and zero points.</summary>
    public static QuantizedWeight Quantize(ReadOnlySpan<float> weight, int rows, int columns, QuantSpec spec)
    {
        CheckShape(weight.Length, rows, columns);
        int group = spec.GroupSize > 0 ? spec.GroupSize : columns;
        int groups = (columns + group - 1) / group;
        var codes = new byte[rows * columns];
        var scales = new float[rows * groups];
        var zeros = new float[rows * groups];
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < groups; g++)
            {
                int start = g * group, length = Math.Min(group, columns - start);
                var segment = weight.Slice(r * columns + start, length);
                var grid = FindGrid(segment, spec);
                scales[r * groups + g] = grid.Scale;
                zeros[r * groups + g] = grid.Zero;
                for (int i = 0; i < length; i++) codes[r * columns + start + i] = (byte)grid.Code(segment[i]);
            }
        return new QuantizedWeight(rows, columns, spec, codes, scales, zeros);
    }

    public static QuantGrid FindGrid(ReadOnlySpan<float> segment, QuantSpec spec) =>
        spec.MseClip ? QuantGrid.FindMse(segment, spec.MaxQ, spec.Symmetric) : QuantGrid.Find(segment, spec.MaxQ, spec.Symmetric);

    private static void CheckShape(int length, int rows, int columns)
    {
        if (length != rows * columns) throw new ArgumentException($"weight has {length} values, expected {rows}×{columns}.");
    }
}
