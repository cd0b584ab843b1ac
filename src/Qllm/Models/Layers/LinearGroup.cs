using Qllm.Quantization.Packed;
using Qllm.Tensors;

namespace Qllm.Models.Layers;

/// <summary>
/// Linear layers that read the same input (q/k/v, gate/up). At decode, when all are dense/bf16 or all are
/// packed low-bit, they run as one batched GEMV, which forks once and streams all their weights in one pass;
/// otherwise (prefill, hooks attached, or other or mixed kinds) each slot runs on its own, so hooks and
/// wrapped layers behave as usual.
/// </summary>
public sealed class LinearGroup(params LinearSlot[] slots)
{
    // Filled on each call (field reads only): layers may be replaced, or their weights edited, between calls.
    private readonly PackedMatrix[] _packed = new PackedMatrix[slots.Length];
    private readonly float[]?[] _biases = new float[]?[slots.Length];
    private readonly PackedLowBitLinear[] _lowBit = new PackedLowBitLinear[slots.Length];

    public IReadOnlyList<LinearSlot> Slots { get; } = slots;

    /// <summary>Reads the tables a decode call fills (see <see cref="CacheWarming"/>).</summary>
    public void WarmTables() => CacheWarming.Keep(slots.Length + _packed.Length + _biases.Length + _lowBit.Length);

    public void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float[]> outputs, int rows)
    {
        if (Gemm.IsGemv(rows))
            switch (Batchable())
            {
                case Batch.Dense:
                    Gemm.MultiplyGemvs(input, rows, _packed, outputs, _biases);
                    return;
                case Batch.LowBit:
                    PackedLowBitLinear.ForwardBatch(_lowBit, input, outputs, rows);
                    return;
            }
        for (int i = 0; i < slots.Length; i++) slots[i].Forward(input, outputs[i], rows);
    }

    private enum Batch { None, Dense, LowBit }

    private Batch Batchable()
    {
        bool dense = true, lowBit = slots.Length <= LowBitGemv.MaxLayers;
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i].Hooks.Count > 0) return Batch.None;
            switch (slots[i].Layer)
            {
                case DenseLinear layer: _packed[i] = layer.Packed; _biases[i] = layer.Bias; lowBit = false; break;
                case Bf16Linear layer: _packed[i] = layer.Packed; _biases[i] = layer.Bias; lowBit = false; break;
                case PackedLowBitLinear layer: _lowBit[i] = layer; dense = false; break;
                default: return Batch.None;
            }
        }
        return dense ? Batch.Dense : lowBit ? Batch.LowBit : Batch.None;
    }
}
