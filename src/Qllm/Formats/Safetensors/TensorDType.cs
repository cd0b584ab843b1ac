namespace Qllm.Formats.Safetensors;

/// <summary>
/// Element types of the safetensors format. The member names are the dtype strings of the
/// format's JSON header ("F32", "BF16", "F8_E4M3", ...).
/// </summary>
public enum TensorDType
{
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
    U16,
    U8,
    BOOL,
    /// <summary>8-bit float, 4 exponent bits, 3 mantissa bits, no infinities (PyTorch float8_e4m3fn).</summary>
    F8_E4M3,
    /// <summary>8-bit float, 5 exponent bits, 2 mantissa bits: the top byte of an IEEE half (PyTorch float8_e5m2).</summary>
    F8_E5M2,
}

/// <summary>Element sizes and the header spelling of <see cref="TensorDType"/>.</summary>
public static class TensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.F64 or TensorDType.I64 or TensorDType.U64 => 8,
        TensorDType.F32 or TensorDType.I32 or TensorDType.U32 => 4,
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 or TensorDType.U16 => 2,
        TensorDType.I8 or TensorDType.U8 or TensorDType.BOOL or TensorDType.F8_E4M3 or TensorDType.F8_E5M2 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    /// <summary>The dtype string used in a safetensors header.</summary>
    public static string ToHeaderString(this TensorDType dtype) =>
        Enum.IsDefined(dtype) ? dtype.ToString() : throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype.");

    /// <summary>
    /// Parses a header dtype string. Exact and case-sensitive, as in the reference implementation
    /// (Enum.TryParse is not used: it would also accept numbers such as "1").
    /// </summary>
    public static bool TryParse(string text, out TensorDType dtype)
    {
        TensorDType? parsed = text switch
        {
            "F64" => TensorDType.F64,
            "F32" => TensorDType.F32,
            "F16" => TensorDType.F16,
            "BF16" => TensorDType.BF16,
            "I64" => TensorDType.I64,
            "I32" => TensorDType.I32,
            "I16" => TensorDType.I16,
            "I8" => TensorDType.I8,
            "U64" => TensorDType.U64,
            "U32" => TensorDType.U32,
            "U16" => TensorDType.U16,
            "U8" => TensorDType.U8,
            "BOOL" => TensorDType.BOOL,
            "F8_E4M3" => TensorDType.F8_E4M3,
            "F8_E5M2" => TensorDType.F8_E5M2,
            _ => null,
        };
        dtype = parsed.GetValueOrDefault();
        return parsed.HasValue;
    }
}
