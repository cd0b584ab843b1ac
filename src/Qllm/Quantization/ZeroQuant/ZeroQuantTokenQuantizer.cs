using Qllm.Common;

namespace Qllm.Quantization.ZeroQuant;

/// <summary>
/// ZeroQuant's token-wise dynamic activation quantization (§4.1): every token (row) of a linear layer's input gets its
/// own symmetric <see cref="ZeroQuantGrid"/> from its own max|x|, computed afresh on each call (DeepSpeed's "dynamic"
/// range calibration: num_groups = tokens).
/// </summary>
public sealed class ZeroQuantTokenQuantizer : IFakeQuantizer
{
    public int Bits { get; }

    public ZeroQuantTokenQuantizer(int bits)
    {
        if (bits is < 2 or > 8) throw new QllmException($"--zq-abits must be between 2 and 8 (or 16 for full precision), got {bits}.");
        Bits = bits;
    }

    public void Apply(Span<float> values, int rows, int columns)
    {
        if (values.Length < rows * columns) throw new ArgumentException($"activation has {values.Length} values, expected {rows}×{columns}.");
        for (int r = 0; r < rows; r++) ZeroQuantGrid.FakeQuantize(values.Slice(r * columns, columns), Bits);
    }

    public string Describe() => $"a{Bits} per-token sym-absmax";
}
