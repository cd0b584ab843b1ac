using Qllm.Models;
using Qllm.Models.Layers;

namespace Qllm.Quantization.SmoothQuant;

/// <summary>
/// The state smoothing and quantization change: every block linear slot's layer (and the head's), and the weights
/// and biases of the norms that smoothing rescales in place. <see cref="Restore"/> puts the model back, so that each
/// α of a sweep smooths (and quantizes) the original weights afresh.
/// </summary>
public sealed class SmoothingSnapshot
{
    private readonly List<(LinearSlot Slot, ILinear Layer)> _layers;
    private readonly List<(float[] Target, float[] Saved)> _norms = [];

    public SmoothingSnapshot(CausalLanguageModel model)
    {
        _layers = model.BlockLinears().Append(model.Head).Select(slot => (slot, slot.Layer)).ToList();
        foreach (var group in ActivationMaxima.NormFedGroups(model).SelectMany(g => g))
        {
            _norms.Add((group.Norm.Weight, (float[])group.Norm.Weight.Clone()));
            if (group.Norm.Bias is { } bias) _norms.Add((bias, (float[])bias.Clone()));
        }
    }

    public void Restore()
    {
        foreach (var (slot, layer) in _layers) slot.Layer = layer;
        foreach (var (target, saved) in _norms) saved.CopyTo(target, 0);
    }
}
