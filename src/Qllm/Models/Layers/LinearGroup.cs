using Qllm.Tensors;

namespace Qllm.Models.Layers;

/// <summary>
/// Linear layers that read the same input (q/k/v, gate/up). At decode they run as one batched GEMV, which
/// forks once and streams all their weights in one pass; otherwise (prefill, hooks attached, or a layer that
/// is not plain dense/bf16) each slot runs on its own, so hooks and quantized layers behave as usual.
/// </summary>
public sealed class LinearGroup(params LinearSlot[] slots)
{
    public IReadOnlyList<LinearSlot> Slots { get; } = slots;

    public void Forward(ReadOnlySpan<float> input, float[][] outputs, int rows)
    {
        if (Gemm.IsGemv(rows) && TryPacked(out var packed, out var biases))
        {
            Gemm.MultiplyGemvs(input, rows, packed, outputs, biases);
            return;
        }
        for (int i = 0; i < slots.Length; i++) slots[i].Forward(input, outputs[i], rows);
    }

    private bool TryPacked(out PackedMatrix[] packed, out float[]?[] biases)
    {
        packed = new PackedMatrix[slots.Length];
        biases = new float[]?[slots.Length];
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i].Hooks.Count > 0) return false;
            switch (slots[i].Layer)
            {
                case DenseLinear dense: packed[i] = dense.Packed; biases[i] = dense.Bias; break;
                case Bf16Linear bf16: packed[i] = bf16.Packed; biases[i] = bf16.Bias; break;
                default: return false;
            }
        }
        return true;
    }
}
