using Qllm.Models.Layers;
using Qllm.Tensors;

namespace Qllm.Quantization.W8A8;

/// <summary>
/// A W8A8 linear layer that computes in integers: 8-bit weight codes with one grid per output channel, packed once
/// (<see cref="Int8Panels"/>), and activations quantized afresh on every call, per token or per tensor, into a
/// per-thread buffer (<see cref="Int8ActivationQuantizer"/>); then the int8 GEMM with the dequantization
/// y = s_x · s_w · Σ (a − z_a)(c − z_w) + bias fused into its store (<see cref="Int8Gemm"/>).
/// </summary>
/// <remarks>
/// The grids are Qllm's fake-quant grids (GPTQ's min/max <see cref="QuantGrid"/>), not SmoothQuant's absmax/127:
/// symmetric 8-bit there means scale = 2·max|x|/255 with codes 0..255 around zero point 128, i.e. the int8 values
/// −128..127 shifted by +128. Following that grid makes this layer compute exactly the function of
/// <see cref="ActivationQuantizedLinear"/> over a <see cref="DenseLinear"/> of the dequantized weights, up to the
/// order of the fp32 summation; asymmetric grids are exact too, through the zero-point terms.
/// </remarks>
public sealed class Int8Linear : ILinear, IHasBias
{
    [ThreadStatic] private static Int8Activations? _buffer;

    private readonly Int8Panels _weights;

    public QuantSpec WeightSpec { get; }
    public ActivationQuantSpec ActivationSpec { get; }
    public float[]? Bias { get; }
    public int InFeatures => _weights.Columns;
    public int OutFeatures => _weights.Rows;
    public string Kind => $"int8 {WeightSpec.Describe()} + {ActivationSpec.Describe()}";
    public long StorageBytes => _weights.StorageBytes + 4L * (Bias?.Length ?? 0);
    public long ParameterCount => (long)InFeatures * OutFeatures + (Bias?.Length ?? 0);

    public Int8Linear(QuantizedWeight weight, float[]? bias, ActivationQuantSpec activations)
    {
        if (weight.Spec.Bits != 8) throw new ArgumentException($"the int8 kernel needs 8-bit weights, got {weight.Spec.Bits}.");
        if (weight.Groups != 1) throw new ArgumentException("the int8 kernel needs one weight grid per output channel, not groups.");
        Int8ActivationQuantizer.Check(activations);
        if (bias != null && bias.Length != weight.Rows) throw new ArgumentException($"bias has {bias.Length} values, expected {weight.Rows}.");
        _weights = new Int8Panels(weight.Codes, weight.Scales, weight.Zeros, weight.Rows, weight.Columns);
        WeightSpec = weight.Spec;
        ActivationSpec = activations;
        Bias = bias;
    }

    public void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        if (input.Length < (long)rows * InFeatures || output.Length < (long)rows * OutFeatures)
            throw new ArgumentException($"linear operand too small for rows={rows} out={OutFeatures} in={InFeatures}.");
        // The calling thread's buffer: the GEMM's workers only read it, and it is refilled, not reallocated, each call.
        var quantized = _buffer ??= new Int8Activations();
        Int8ActivationQuantizer.Quantize(input, rows, InFeatures, ActivationSpec, quantized);
        Int8Gemm.Multiply(quantized, _weights, output, Bias);
    }
}
