using Qllm.Common;

namespace Qllm.Quantization.ZeroQuant;

/// <summary>
/// ZeroQuant's group-wise weight quantization (§4.1): each row of W [out, in] (an output channel), or each group of
/// <see cref="GroupSize"/> input columns of a row, gets its own symmetric <see cref="ZeroQuantGrid"/>.
/// DeepSpeed instead cuts the flattened matrix into quantize_groups equal chunks; with as many groups as output
/// rows (the seed's LLaMA setting, "to match per-channel") the two are the same.
/// </summary>
public sealed class ZeroQuantWeightQuantizer : IFakeQuantizer
{
    public int Bits { get; }
    public int GroupSize { get; }

    public ZeroQuantWeightQuantizer(int bits, int groupSize = -1)
    {
        if (bits is < 2 or > 8) throw new QllmException($"--wbits must be between 2 and 8 for ZeroQuant, got {bits}.");
        if (groupSize == 0 || groupSize < -1) throw new QllmException($"--wgroup must be a positive group size or -1 (per channel), got {groupSize}.");
        Bits = bits;
        GroupSize = groupSize;
    }

    public void Apply(Span<float> values, int rows, int columns)
    {
        if (values.Length < rows * columns) throw new ArgumentException($"weight has {values.Length} values, expected {rows}×{columns}.");
        int group = GroupSize > 0 ? GroupSize : columns;
        for (int r = 0; r < rows; r++)
            for (int start = 0; start < columns; start += group)
                ZeroQuantGrid.FakeQuantize(values.Slice(r * columns + start, Math.Min(group, columns - start)), Bits);
    }

    public string Describe() => $"w{Bits} {(GroupSize > 0 ? $"g{GroupSize}" : "per-channel")} sym-absmax";
}
