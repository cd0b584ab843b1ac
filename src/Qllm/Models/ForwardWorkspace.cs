namespace Qllm.Models;

/// <summary>
/// The activation buffers of forward passes, kept and reused from one call to the next, so that a decode loop
/// allocates nothing: each numbered slot holds one array, grown only when a longer one is asked for. ArrayPool is not used here because it trims idle arrays after garbage collections and then
/// allocates again mid-generation. One workspace serves one forward pass at a time.
/// </summary>
public sealed class ForwardWorkspace
{
    /// <summary>Slots the blocks use for their own buffers; the model's residual stream takes <see cref="HiddenSlot"/>.</summary>
    public const int BlockSlots = 8;
    public const int HiddenSlot = BlockSlots;

    private readonly float[]?[] _buffers = new float[]?[BlockSlots + 1];

    /// <summary>An array of at least <paramref name="length"/> floats; its contents are whatever the last user left.</summary>
    public float[] Get(int slot, int length)
    {
        var buffer = _buffers[slot];
        if (buffer is null || buffer.Length < length)
        {
            // Small buffers grow to a power of two so a decode loop settles at once; large ones (prefill,
            // calibration) are sized exactly, not doubled.
            int size = length <= 1 << 20 ? (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 64)) : length;
            _buffers[slot] = buffer = GC.AllocateUninitializedArray<float>(size);
        }
        return buffer;
    }

    /// <summary>Bytes held, for reports.</summary>
    public long Bytes => _buffers.Sum(b => 4L * (b?.Length ?? 0));
}
