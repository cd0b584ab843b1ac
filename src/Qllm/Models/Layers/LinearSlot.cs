using System.Buffers;

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
        int length = rows * Layer.InFeatures;
        if (!Hooks.Exists(h => h.ChangesInput))
        {
            // Observers only: they see the caller's buffer itself (the span type keeps it read-only to them in spirit;
            // the interface passes Span so that one method serves both kinds).
            ForwardObserved(input[..length], output, rows);
            return;
        }
        float[] copy = ArrayPool<float>.Shared.Rent(length);
        try
        {
            var inputCopy = copy.AsSpan(0, length);
            input[..length].CopyTo(inputCopy);
            foreach (var hook in Hooks) hook.BeforeForward(this, inputCopy, rows);
            Layer.Forward(inputCopy, output, rows);
            foreach (var hook in Hooks) hook.AfterForward(this, inputCopy, output[..(rows * Layer.OutFeatures)], rows);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copy);
        }
    }

    private unsafe void ForwardObserved(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        fixed (float* pointer = input)
        {
            var view = new Span<float>(pointer, input.Length);
            foreach (var hook in Hooks) hook.BeforeForward(this, view, rows);
            Layer.Forward(input, output, rows);
            foreach (var hook in Hooks) hook.AfterForward(this, input, output[..(rows * Layer.OutFeatures)], rows);
        }
    }

    public override string ToString() => $"{Name} [{Layer.OutFeatures}×{Layer.InFeatures}, {Layer.Kind}]";
}
