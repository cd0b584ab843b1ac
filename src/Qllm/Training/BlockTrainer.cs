using Qllm.Common;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Quantization;

namespace Qllm.Training;

/// <summary>
/// A decoder block as a trainable function: a forward that keeps what its backward needs, and a backward that
/// accumulates the gradient of every parameter (latent linear weights and biases, norm weights and biases) and
/// returns the gradient of the block's input. The parameters start as copies of the block's own tensors;
/// <see cref="Install"/> writes the trained ones back (linear layers re-quantized).
/// </summary>
public abstract class BlockTrainer
{
    private readonly List<(LinearSlot Slot, TrainableLinear Layer)> _linears = [];
    private readonly List<(float[] Target, Parameter Trained)> _tensors = [];
    private readonly List<Parameter> _parameters = [];

    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Builds the trainer for a LLaMA or OPT block whose linear layers are still full precision.</summary>
    public static BlockTrainer For(IDecoderBlock block, Func<LinearSlot, SlotQuantizers> quantizers) => block switch
    {
        Models.Llama.LlamaBlock llama => new LlamaBlockTrainer(llama, quantizers),
        Models.Opt.OptBlock opt => new OptBlockTrainer(opt, quantizers),
        _ => throw new QllmException($"LKD: no training forward for block type {block.GetType().Name}."),
    };

    /// <summary>Forward over [batch·seqLen, hidden] inputs (positions 0..seqLen−1 in every sequence).</summary>
    public abstract void Forward(ReadOnlySpan<float> input, int batch, int seqLen, Span<float> output);

    /// <summary>Backward of the last <see cref="Forward"/>: accumulates parameter gradients, writes the input gradient.</summary>
    public abstract void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient);

    /// <summary>Re-quantizes the weights from the latent ones; call after each optimizer step.</summary>
    public void ParametersChanged()
    {
        foreach (var (_, layer) in _linears) layer.WeightsChanged();
    }

    public void ZeroGradients()
    {
        foreach (var parameter in _parameters) parameter.ZeroGradient();
    }

    /// <summary>Puts the trained tensors into the block: norms copied in place, linear layers replaced by their re-quantized form.</summary>
    public void Install()
    {
        foreach (var (target, trained) in _tensors) trained.Value.CopyTo(target, 0);
        foreach (var (slot, layer) in _linears) slot.Layer = layer.ToLayer();
    }

    protected TrainableLinear Linear(LinearSlot slot, Func<LinearSlot, SlotQuantizers> quantizers)
    {
        if (slot.Layer is not DenseLinear dense)
            throw new QllmException($"LKD needs a full-precision layer at {slot.Name}, found '{slot.Layer.Kind}'.");
        var layer = new TrainableLinear(slot.Name, dense.Weight, dense.Bias, dense.OutFeatures, dense.InFeatures, quantizers(slot));
        _linears.Add((slot, layer));
        _parameters.AddRange(layer.Parameters);
        return layer;
    }

    /// <summary>A block tensor trained as a parameter (norm weights and biases: DeepSpeed's LKD trains every parameter of the block).</summary>
    protected Parameter Tensor(string name, float[] target)
    {
        var parameter = new Parameter(name, (float[])target.Clone());
        _tensors.Add((target, parameter));
        _parameters.Add(parameter);
        return parameter;
    }

    /// <summary>dx = Σ over the layers that read the same input of each one's input gradient.</summary>
    protected static void SharedInputBackward(ReadOnlySpan<TrainableLinear> layers, ReadOnlySpan<float[]> outputGradients, Span<float> inputGradient, float[] scratch)
    {
        int length = inputGradient.Length;
        layers[0].Backward(outputGradients[0], inputGradient);
        for (int i = 1; i < layers.Length; i++)
        {
            layers[i].Backward(outputGradients[i], scratch);
            System.Numerics.Tensors.TensorPrimitives.Add(inputGradient, scratch.AsSpan(0, length), inputGradient);
        }
    }

    /// <summary>An array of at least <paramref name="length"/> floats, kept across calls of the same size.</summary>
    protected static float[] Ensure(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length != length) buffer = new float[length];
        return buffer;
    }
}
