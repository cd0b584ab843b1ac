using System.Buffers;
using System.Runtime.InteropServices;

namespace Qllm.Models.Layers;

/// <summary>
/// Observes or rewrites what flows through a linear layer. Calibration (GPTQ Hessians,
/// SmoothQuant channel maxima) and analysis tools attach hooks; quantization methods instead
/// replace <see cref="LinearSlot.Layer"/>.
/// </summary>
public interface ILinearHook
{
    /// <summary>
    /// Whether <see cref="BeforeForward"/> may change its input. Only then does the slot make the private copy
    /// (calibration observes inputs of GBs, which must not be copied once more for nothing).
    /// </summary>
    bool ChangesInput => true;

    /// <summary>Called before the layer runs; a hook that <see cref="ChangesInput"/> may change <paramref name="input"/> (a private copy).</summary>
    void BeforeForward(LinearSlot slot, Span<float> input, int rows) { }

    /// <summary>Called after the layer runs; the hook may change <paramref name="output"/>.</summary>
    void AfterForward(LinearSlot slot, ReadOnlySpan<float> input, Span<float> output, int rows) { }
}

/// <summary>
/// A named place for a linear layer inside a decoder block (for example "layers.3.self_attn.q_proj").
/// The block calls the slot; the slot calls whatever <see cref="ILinear"/> it holds, with its hooks around it.
/// </summary>
public sealed class LinearSlot(string name, ILinear layer)
{
    public string Name { get; } = name;
    public ILinear Layer { get; set; } = layer;
    public List<ILinearHook> Hooks { get; } = [];

    public void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        if (Hooks.Count == 0)
        {
            Layer.Forward(input, output, rows);
            return;
        }
        var given = input[..(rows * Layer.InFeatures)];
        // Hooks that change their input get a private copy; observers only are handed the caller's own buffer,
        // which they promise not to change (calibration observes inputs of GBs).
        float[]? copy = Hooks.Exists(h => h.ChangesInput) ? ArrayPool<float>.Shared.Rent(given.Length) : null;
        try
        {
            var seen = copy != null ? copy.AsSpan(0, given.Length) : MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(given), given.Length);
            if (copy != null) given.CopyTo(seen);
            foreach (var hook in Hooks) hook.BeforeForward(this, seen, rows);
            Layer.Forward(seen, output, rows);
            foreach (var hook in Hooks) hook.AfterForward(this, seen, output[..(rows * Layer.OutFeatures)], rows);
        }
        finally
        {
            if (copy != null) ArrayPool<float>.Shared.Return(copy);
        }
    }

    public override string ToString() => $"{Name} [{Layer.OutFeatures}×{Layer.InFeatures}, {Layer.Kind}]";
}
