using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Analysis;

/// <summary>
/// The layers a model held before it was quantized, by slot name (every block linear and the LM head), taken
/// just before the quantization step runs: the reference of the analysis tools. Quantizers replace a slot's
/// layer and leave the old one untouched (RTN clones the weights, GPTQ solves on a copy), so keeping the
/// references costs no memory until the old layers would have been collected.
/// </summary>
public sealed class FullPrecisionLayers
{
    private readonly Dictionary<string, ILinear> _layers;

    private FullPrecisionLayers(Dictionary<string, ILinear> layers) => _layers = layers;

    public static FullPrecisionLayers Capture(CausalLanguageModel model) =>
        new(Slots(model).ToDictionary(slot => slot.Name, slot => slot.Layer));

    /// <summary>Every slot the snapshot covers, in execution order: the block linears, then the head.</summary>
    public static IEnumerable<LinearSlot> Slots(CausalLanguageModel model) => model.BlockLinears().Append(model.Head);

    public ILinear this[LinearSlot slot] =>
        _layers.TryGetValue(slot.Name, out var layer) ? layer : throw new InvalidOperationException($"no full-precision layer was captured for {slot.Name}.");

    /// <summary>Whether the slot now holds another layer than the one captured (it was quantized).</summary>
    public bool Replaced(LinearSlot slot) => !ReferenceEquals(this[slot], slot.Layer);

    /// <summary>Puts the captured layers back into <paramref name="slots"/> until the result is disposed, which restores the current ones.</summary>
    public IDisposable SwapIn(IReadOnlyList<LinearSlot> slots)
    {
        var current = slots.Select(slot => slot.Layer).ToArray();
        foreach (var slot in slots) slot.Layer = this[slot];
        return new Restore(slots, current);
    }

    private sealed class Restore(IReadOnlyList<LinearSlot> slots, ILinear[] layers) : IDisposable
    {
        public void Dispose()
        {
            for (int i = 0; i < slots.Count; i++) slots[i].Layer = layers[i];
        }
    }
}
