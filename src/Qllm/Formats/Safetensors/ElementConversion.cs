using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qllm.Formats.Safetensors;

/// <summary>
/// Widens stored elements to float32 / int32. Safetensors data is little-endian; the fast paths
/// reinterpret the bytes directly on little-endian hosts (all the ones .NET ships for), with a
/// scalar fallback otherwise. Sources may be unaligned (a file is free to place a tensor at any
/// offset), so only unaligned loads are used.
/// </summary>
internal static class ElementConversion
{
    internal static bool CanReadAsFloat32(TensorDType dtype) => dtype is
        TensorDType.F32 or TensorDType.F16 or TensorDType.BF16 or TensorDType.F64 or TensorDType.F8_E4M3 or TensorDType.F8_E5M2;

    internal static bool CanReadAsInt32(TensorDType dtype) => dtype is
        TensorDType.I32 or TensorDType.I16 or TensorDType.I8 or TensorDType.U16 or TensorDType.U8 or
        TensorDType.I64 or TensorDType.U32 or TensorDType.U64;

    /// <summary>Converts <c>destination.Length</c> elements; <paramref name="source"/> holds exactly that many.</summary>
    internal static void ToFloat32(TensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        bool little = BitConverter.IsLittleEndian;
        switch (dtype)
        {
            case TensorDType.F32 when little:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case TensorDType.F32:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                break;
            case TensorDType.F16 when little:
                // Vectorised (F16C / NEON where available) by System.Numerics.Tensors.
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case TensorDType.F16:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                break;
            case TensorDType.BF16:
                BFloat16ToFloat32(source, destination);
                break;
            case TensorDType.F64:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                break;
            case TensorDType.F8_E4M3:
                Lookup(source, destination, Float8Tables.E4M3);
                break;
            case TensorDType.F8_E5M2:
                Lookup(source, destination, Float8Tables.E5M2);
                break;
            default:
                throw new InvalidOperationException($"{dtype} cannot be read as float32.");
        }
    }

    /// <summary>
    /// bfloat16 is the top half of a float32, so widening is a 16-bit shift: zero-extend each
    /// u16 to u32 and shift left by 16, 16 or 8 elements per iteration.
    /// </summary>
    internal static void BFloat16ToFloat32(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int n = destination.Length;
        int i = 0;
        if (BitConverter.IsLittleEndian)
        {
            ref ushort src = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(source));
            ref uint dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= n - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
                {
                    var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref src, (nuint)i));
                    (lower << 16).StoreUnsafe(ref dst, (nuint)i);
                    (upper << 16).StoreUnsafe(ref dst, (nuint)(i + Vector256<uint>.Count));
                }
            }
            if (Vector128.IsHardwareAccelerated)
            {
                for (; i <= n - Vector128<ushort>.Count; i += Vector128<ushort>.Count)
                {
                    var (lower, upper) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)i));
                    (lower << 16).StoreUnsafe(ref dst, (nuint)i);
                    (upper << 16).StoreUnsafe(ref dst, (nuint)(i + Vector128<uint>.Count));
                }
            }
        }
        for (; i < n; i++)
            destination[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16);
    }

    private static void Lookup(ReadOnlySpan<byte> source, Span<float> destination, float[] table)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = table[source[i]];
    }

    /// <summary>
    /// Converts <c>destination.Length</c> elements. Returns the index of the first element outside
    /// the int32 range (64-bit and unsigned 32-bit sources), or -1 when all fit.
    /// </summary>
    internal static long ToInt32(TensorDType dtype, ReadOnlySpan<byte> source, Span<int> destination, out long badValue)
    {
        badValue = 0;
        switch (dtype)
        {
            case TensorDType.I32 when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, int>(source).CopyTo(destination);
                return -1;
            case TensorDType.I32:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]);
                return -1;
            case TensorDType.I16:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source[(2 * i)..]);
                return -1;
            case TensorDType.U16:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]);
                return -1;
            case TensorDType.I8:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = (sbyte)source[i];
                return -1;
            case TensorDType.U8:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = source[i];
                return -1;
            case TensorDType.U32:
                for (int i = 0; i < destination.Length; i++)
                {
                    uint v = BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]);
                    if (v > int.MaxValue) { badValue = v; return i; }
                    destination[i] = (int)v;
                }
                return -1;
            case TensorDType.I64:
                for (int i = 0; i < destination.Length; i++)
                {
                    long v = BinaryPrimitives.ReadInt64LittleEndian(source[(8 * i)..]);
                    if (v is < int.MinValue or > int.MaxValue) { badValue = v; return i; }
                    destination[i] = (int)v;
                }
                return -1;
            case TensorDType.U64:
                for (int i = 0; i < destination.Length; i++)
                {
                    ulong v = BinaryPrimitives.ReadUInt64LittleEndian(source[(8 * i)..]);
                    if (v > int.MaxValue) { badValue = unchecked((long)v); return i; }
                    destination[i] = (int)v;
                }
                return -1;
            default:
                throw new InvalidOperationException($"{dtype} cannot be read as int32.");
        }
    }

    private static class Float8Tables
    {
        /// <summary>
        /// float8_e4m3fn: bias 7, subnormals when the exponent is 0, no infinities; only
        /// S.1111.111 is NaN (the "fn" = finite variant used by PyTorch and safetensors' F8_E4M3).
        /// </summary>
        internal static readonly float[] E4M3 = BuildE4M3();

        /// <summary>float8_e5m2 is an IEEE binary16 with the low 8 mantissa bits dropped.</summary>
        internal static readonly float[] E5M2 = BuildE5M2();

        private static float[] BuildE4M3()
        {
            var table = new float[256];
            for (int b = 0; b < 256; b++)
            {
                int exponent = (b >> 3) & 0xF, mantissa = b & 0x7;
                float magnitude = exponent == 0xF && mantissa == 0x7
                    ? float.NaN
                    : exponent == 0
                        ? mantissa / 8f * MathF.Pow(2, -6)
                        : (1 + mantissa / 8f) * MathF.Pow(2, exponent - 7);
                table[b] = (b & 0x80) != 0 ? -magnitude : magnitude;
            }
            return table;
        }

        private static float[] BuildE5M2()
        {
            var table = new float[256];
            for (int b = 0; b < 256; b++)
                table[b] = (float)BitConverter.UInt16BitsToHalf((ushort)(b << 8));
            return table;
        }
    }
}
