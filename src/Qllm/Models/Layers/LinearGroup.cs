using Qllm.Tensors;

namespace Qllm.Models.Layers;

/// <summary>
/// Linear layers that read the same input (q/k/v, gate/up). At decode they run as one batched GEMV, which
/// forks once and streams all their weights in one pass; otherwise (prefill, hooks attached, or a layer that
/// is not plain dense/bf16) each slot runs on its own, so hooks and quantized layers behave as usual.
/// </summary>
public sealed class LinearGroup(params LinearSlot[] slots)
{
    // Filled on each call (field reads only): layers may be replaced, or their weights edited, between calls.
    private readonly PackedMatrix[] _packed = new PackedMatrix[slots.Length];
    private readonly float[]?[] _biases = new float[]?[slots.Length];

    public IReadOnlyList<LinearSlot> Slots { get; } = slots;

    public void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float[]> outputs, int rows)
    {
        if (Gemm.IsGemv(rows) && Batchable())
        {
            Gemm.MultiplyGemvs(input, rows, _packed, outputs, _biases);
            return;
        }
        for (int i = 0; i < slots.Length; i++) slots[i].Forward(input, outputs[i], rows);
    }

    private bool Batchable()
    {
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i].Hooks.Count > 0) return false;
            switch (slots[i].Layer)
            {
                case DenseLinear dense: _packed[i] = dense.Packed; _biases[i] = dense.Bias; break;
                case Bf16Linear bf16: _packed[i] = bf16.Packed; _biases[i] = bf16.Bias; break;
                default: return false;
            }
        }
        return true;
    }
}
