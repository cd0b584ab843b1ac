namespace Qllm.Formats.Safetensors;

/// <summary>
/// One tensor of a safetensors file: its dtype, shape (row-major, outermost first) and the
/// half-open byte range [<paramref name="Begin"/>, <paramref name="End"/>) relative to the start
/// of the data section (the byte after the JSON header), as in the header's "data_offsets".
/// </summary>
public sealed record TensorInfo(string Name, TensorDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Product of the dimensions (1 for a scalar, whose shape is empty).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long dim in Shape)
                count = checked(count * dim);
            return count;
        }
    }

    /// <summary>Number of bytes of the tensor's data.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The shape as written in messages, e.g. "[4096, 11008]".</summary>
    public string ShapeText => FormatShape(Shape);

    internal static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
