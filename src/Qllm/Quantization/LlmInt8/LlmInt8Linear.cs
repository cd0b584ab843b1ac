using System.Buffers;
using System.Numerics.Tensors;
using Qllm.Models.Layers;

namespace Qllm.Quantization.LlmInt8;

/// <summary>
/// LLM.int8() (Dettmers et al. 2022, §3.2) in float simulation: a mixed-precision decomposition of each product.
/// Per call, every input column holding a value with |x| ≥ <see cref="Threshold"/> in any row (token) is an outlier
/// column and is multiplied in full precision with the original weight columns; the rest is int8 with vector-wise
/// scales: per row of X (token) and per output channel of W, absmax/127 each. Conventions as bitsandbytes'
/// int8_vectorwise_quant / MatMul8bitLt: the outlier values themselves are left out of their row's absmax, the
/// other values of an outlier column are not, and the whole column is then zeroed in the int8 part. With
/// threshold 0 every column is an outlier (|x| ≥ 0), so the layer is fp32 (bitsandbytes reads 0 as "no
/// decomposition"); the outlier columns use the original fp32 weights, as bitsandbytes does with has_fp16_weights
/// (its int8-only inference mode multiplies them with dequantized int8 weights instead).
/// </summary>
public sealed class LlmInt8Linear : ILinear
{
    private readonly DenseLinear _int8;      // W dequantized from its per-output-channel int8 codes, with the bias
    private readonly DenseLinear _original;  // W itself, no bias: the outlier columns' product
    private long _calls, _outlierColumns;

    public LlmInt8Linear(DenseLinear dense, float threshold)
    {
        if (!(threshold >= 0)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "the outlier threshold must be ≥ 0.");
        Threshold = threshold;
        int columns = dense.InFeatures;
        var weight = (float[])dense.Weight.Clone();
        for (int r = 0; r < dense.OutFeatures; r++)
        {
            var row = weight.AsSpan(r * columns, columns);
            VectorWiseInt8.FakeQuantize(row, VectorWiseInt8.AbsMax(row));
        }
        _int8 = new DenseLinear(weight, dense.OutFeatures, columns, dense.Bias);
        _original = new DenseLinear(dense.Weight, dense.OutFeatures, columns);
    }

    public float Threshold { get; }
    public int InFeatures => _int8.InFeatures;
    public int OutFeatures => _int8.OutFeatures;
    public string Kind => $"llm.int8 threshold {Threshold:G4}";
    // int8 codes, one fp32 scale per output channel, the fp32 bias; the fp32 weights kept for outlier columns are not counted.
    public long StorageBytes => (long)OutFeatures * InFeatures + 4L * OutFeatures + 4L * (_int8.Bias?.Length ?? 0);
    public long ParameterCount => _int8.ParameterCount;

    /// <summary>Forward calls so far, and the outlier columns they found in total.</summary>
    public (long Calls, long OutlierColumns) Statistics => (Interlocked.Read(ref _calls), Interlocked.Read(ref _outlierColumns));

    public void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        int columns = InFeatures, length = rows * columns;
        float[] int8Part = ArrayPool<float>.Shared.Rent(length);
        bool[] outlier = ArrayPool<bool>.Shared.Rent(columns);
        try
        {
            var isOutlier = outlier.AsSpan(0, columns);
            isOutlier.Clear();
            var x = int8Part.AsSpan(0, length);
            input[..length].CopyTo(x);
            int found = 0;
            for (int r = 0; r < rows; r++)
            {
                var row = x.Slice(r * columns, columns);
                for (int j = 0; j < columns; j++)
                    if (MathF.Abs(row[j]) >= Threshold)
                    {
                        row[j] = 0; // out of the row's absmax, as bitsandbytes zeroes outliers before its row statistics
                        if (!isOutlier[j]) { isOutlier[j] = true; found++; }
                    }
            }
            for (int r = 0; r < rows; r++)
            {
                var row = x.Slice(r * columns, columns);
                float absMax = VectorWiseInt8.AbsMax(row);
                for (int j = 0; j < columns; j++) if (isOutlier[j]) row[j] = 0;
                VectorWiseInt8.FakeQuantize(row, absMax);
            }
            _int8.Forward(x, output, rows);
            if (found > 0) AddOutlierProduct(input, isOutlier, output, rows);
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _outlierColumns, found);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(int8Part);
            ArrayPool<bool>.Shared.Return(outlier);
        }
    }

    /// <summary>output += X[:, outliers] · W[:, outliers]ᵀ in fp32, as a product with the other columns zeroed.</summary>
    private void AddOutlierProduct(ReadOnlySpan<float> input, ReadOnlySpan<bool> isOutlier, Span<float> output, int rows)
    {
        int columns = InFeatures, length = rows * columns, outLength = rows * OutFeatures;
        float[] sparse = ArrayPool<float>.Shared.Rent(length), product = ArrayPool<float>.Shared.Rent(outLength);
        try
        {
            var x = sparse.AsSpan(0, length);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < columns; j++)
                    x[r * columns + j] = isOutlier[j] ? input[r * columns + j] : 0f;
            var y = product.AsSpan(0, outLength);
            _original.Forward(x, y, rows);
            TensorPrimitives.Add(output[..outLength], y, output);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sparse);
            ArrayPool<float>.Shared.Return(product);
        }
    }
}
