namespace Qllm.Quantization;

/// <summary>
/// Dynamic fake-quantization of activations [rows = tokens, columns = features], in place, with a grid
/// computed from the values at hand (min/max as GPTQ's Quantizer, no clipping search): one grid for the
/// whole tensor, one per token, or one per group of columns within a token.
/// </summary>
public static class ActivationQuantizer
{
    public static void FakeQuantize(Span<float> x, int rows, int columns, ActivationQuantSpec spec)
    {
        if (x.Length < rows * columns) throw new ArgumentException($"activation has {x.Length} values, expected {rows}×{columns}.");
        if (spec.Granularity == ActivationGranularity.PerTensor)
        {
            Apply(x[..(rows * columns)], spec);
            return;
        }
        int group = spec.GroupSize > 0 ? spec.GroupSize : columns;
        for (int r = 0; r < rows; r++)
            for (int start = 0; start < columns; start += group)
                Apply(x.Slice(r * columns + start, Math.Min(group, columns - start)), spec);
    }

    private static void Apply(Span<float> values, ActivationQuantSpec spec)
    {
        var grid = QuantGrid.Find(values, spec.MaxQ, spec.Symmetric);
        for (int i = 0; i < values.Length; i++) values[i] = grid.Quantize(values[i]);
    }
}
