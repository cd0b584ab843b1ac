using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Quantization.W8A8;
using Qllm.Tensors.Kernels;
using Qllm.Tests.Tensors;
using Xunit;

namespace Qllm.Tests.Quantization;

/// <summary>
/// The packed W8A8 layer against the fake-quant simulation it replaces, ActivationQuantizedLinear over a DenseLinear
/// of the dequantized weights: the same grids, so the same products, summed in another order. The oracle is the
/// simulation's own quantized operands multiplied in double precision.
/// </summary>
[Collection(KernelPathCollection.Name)]
public class Int8LinearTests
{
    public static TheoryData<KernelPath, int, bool, bool, ActivationGranularity> Cases()
    {
        var data = new TheoryData<KernelPath, int, bool, bool, ActivationGranularity>();
        foreach (var path in new[] { KernelPath.Avx512, KernelPath.Avx2, KernelPath.Portable })
            foreach (int rows in new[] { 1, 3, 21 })
            {
                data.Add(path, rows, true, true, ActivationGranularity.PerToken);
                data.Add(path, rows, true, true, ActivationGranularity.PerTensor);
                data.Add(path, rows, false, false, ActivationGranularity.PerToken);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesFakeQuantSimulation(KernelPath path, int rows, bool weightSym, bool activationSym, ActivationGranularity granularity)
    {
        const int inFeatures = 70, outFeatures = 37;
        var random = new Random(rows);
        float[] weight = Enumerable.Range(0, inFeatures * outFeatures).Select(_ => random.NextSingle() - 0.4f).ToArray();
        float[] bias = Enumerable.Range(0, outFeatures).Select(_ => random.NextSingle()).ToArray();
        // Outlier channels and one all-positive token, where symmetric and asymmetric grids part ways.
        float[] input = Enumerable.Range(0, rows * inFeatures).Select(i => (i % inFeatures == 5 ? 20f : 1f) * (random.NextSingle() - (i < inFeatures ? 0f : 0.5f))).ToArray();
        var codes = WeightQuantizer.Quantize(weight, outFeatures, inFeatures, new QuantSpec(8, weightSym));
        var spec = new ActivationQuantSpec(8, activationSym, granularity);

        var simulation = new ActivationQuantizedLinear(new DenseLinear(codes.Dequantize(), outFeatures, inFeatures, bias), spec);
        var packed = new Int8Linear(codes, bias, spec);
        var expected = new float[rows * outFeatures];
        var actual = new float[rows * outFeatures];
        var previous = KernelSelector.Force(path);
        try
        {
            simulation.Forward(input, expected, rows);
            packed.Forward(input, actual, rows);
        }
        finally { KernelSelector.Force(previous); }

        float[] quantizedInput = (float[])input.Clone();
        ActivationQuantizer.FakeQuantize(quantizedInput, rows, inFeatures, spec);
        float[] dequantized = codes.Dequantize();
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outFeatures; o++)
            {
                double exact = bias[o], magnitude = Math.Abs(bias[o]);
                for (int i = 0; i < inFeatures; i++)
                {
                    double product = (double)quantizedInput[r * inFeatures + i] * dequantized[o * inFeatures + i];
                    exact += product;
                    magnitude += Math.Abs(product);
                }
                double tolerance = 1e-6 * magnitude;
                Assert.Equal(exact, actual[r * outFeatures + o], tolerance);
                Assert.Equal(exact, expected[r * outFeatures + o], tolerance);
            }
    }
}
