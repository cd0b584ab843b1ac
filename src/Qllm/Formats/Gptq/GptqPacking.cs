namespace Qllm.Formats.Gptq;

/// <summary>
/// The int32 packing of GPTQ checkpoints (GPTQ-for-LLaMa, AutoGPTQ's cuda_old/cuda/exllama layers, transformers):
/// <list type="bullet">
/// <item><c>qweight</c> int32 [⌈in·bits/32⌉, out]: column o holds output channel o's codes along the input
/// dimension, as one little-endian bit stream: code j occupies stream bits [j·bits, j·bits + bits), and stream
/// bit b is bit b mod 32 of word b / 32. For 2, 4 and 8 bits that is "32/bits codes per word, lowest bits
/// first"; for 3 bits it is AutoGPTQ's layout of 32 codes in 3 words, where code 10 straddles words 0 and 1
/// (2 + 1 bits) and code 21 straddles words 1 and 2 (1 + 2 bits).</item>
/// <item><c>qzeros</c> int32 [groups, ⌈out·bits/32⌉]: each group's row of zero points, packed the same way along
/// the output dimension, storing zero − 1 (the cuda kernels' convention; a reader adds 1 back).</item>
/// </list>
/// AutoGPTQ sizes these as in/32·bits and out/32·bits, which equals the ceiling whenever the dimension is a
/// multiple of 32 (every real model); for other sizes the last word is zero-padded here instead of truncated.
/// </summary>
public static class GptqPacking
{
    public static readonly IReadOnlyList<int> SupportedBits = [2, 3, 4, 8];

    /// <summary>int32 words that hold <paramref name="count"/> values of <paramref name="bits"/> bits.</summary>
    public static int PackedLength(int count, int bits) => (int)(((long)count * bits + 31) / 32);

    /// <summary>Codes [rows = out, columns = in] (row-major) → qweight [PackedLength(columns), rows].</summary>
    public static int[] PackQWeight(ReadOnlySpan<byte> codes, int rows, int columns, int bits)
    {
        CheckBits(bits);
        if (codes.Length != rows * columns) throw new ArgumentException($"{codes.Length} codes given for {rows}×{columns}.", nameof(codes));
        int words = PackedLength(columns, bits);
        var qweight = new int[words * rows];
        var stream = new uint[columns];
        var packed = new int[words];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++) stream[c] = CheckValue(codes[r * columns + c], bits, "code");
            Pack(stream, bits, packed);
            for (int k = 0; k < words; k++) qweight[k * rows + r] = packed[k];
        }
        return qweight;
    }

    /// <summary>qweight [PackedLength(columns), rows] → codes [rows, columns].</summary>
    public static byte[] UnpackQWeight(ReadOnlySpan<int> qweight, int rows, int columns, int bits)
    {
        CheckBits(bits);
        int words = PackedLength(columns, bits);
        if (qweight.Length != words * rows) throw new ArgumentException($"qweight has {qweight.Length} words, expected {words}×{rows}.", nameof(qweight));
        var codes = new byte[rows * columns];
        var packed = new int[words];
        var stream = new uint[columns];
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < words; k++) packed[k] = qweight[k * rows + r];
            Unpack(packed, bits, stream);
            for (int c = 0; c < columns; c++) codes[r * columns + c] = (byte)stream[c];
        }
        return codes;
    }

    /// <summary>
    /// Zero points [rows = out, groups] (integral, 0..2^bits − 1) → qzeros [groups, PackedLength(rows)] holding
    /// (zero − 1) mod 2^bits. The modulo keeps a zero of 0 inside its own field (AutoGPTQ's writer lets the −1
    /// spill into the neighbouring fields); <see cref="UnpackQZeros"/> maps it back to 0.
    /// </summary>
    public static int[] PackQZeros(ReadOnlySpan<float> zeros, int rows, int groups, int bits)
    {
        CheckBits(bits);
        if (zeros.Length != rows * groups) throw new ArgumentException($"{zeros.Length} zeros given for {rows}×{groups}.", nameof(zeros));
        uint mask = (1u << bits) - 1;
        int words = PackedLength(rows, bits);
        var qzeros = new int[groups * words];
        var stream = new uint[rows];
        for (int g = 0; g < groups; g++)
        {
            for (int r = 0; r < rows; r++)
            {
                float zero = zeros[r * groups + g];
                if (zero != MathF.Round(zero) || zero < 0 || zero > mask)
                    throw new ArgumentException($"zero point {zero} (row {r}, group {g}) is not an integer in 0..{mask}.", nameof(zeros));
                stream[r] = ((uint)zero - 1) & mask;
            }
            Pack(stream, bits, qzeros.AsSpan(g * words, words));
        }
        return qzeros;
    }

    /// <summary>
    /// qzeros [groups, PackedLength(rows)] → zero points [rows, groups]: stored + <paramref name="offset"/>
    /// (1 for the "gptq" checkpoint format, 0 for "gptq_v2"). A stored 2^bits − 1 with offset 1 would be a zero of
    /// 2^bits, outside every grid; it is what <see cref="PackQZeros"/> writes for a zero of 0, so it reads as 0.
    /// </summary>
    public static float[] UnpackQZeros(ReadOnlySpan<int> qzeros, int rows, int groups, int bits, int offset = 1)
    {
        CheckBits(bits);
        int words = PackedLength(rows, bits);
        if (qzeros.Length != groups * words) throw new ArgumentException($"qzeros has {qzeros.Length} words, expected {groups}×{words}.", nameof(qzeros));
        uint mask = (1u << bits) - 1;
        var zeros = new float[rows * groups];
        var stream = new uint[rows];
        for (int g = 0; g < groups; g++)
        {
            Unpack(qzeros.Slice(g * words, words), bits, stream);
            for (int r = 0; r < rows; r++) zeros[r * groups + g] = (stream[r] + (uint)offset) & mask;
        }
        return zeros;
    }

    /// <summary>Writes values of <paramref name="bits"/> bits into <paramref name="words"/> as one little-endian bit stream.</summary>
    private static void Pack(ReadOnlySpan<uint> values, int bits, Span<int> words)
    {
        words.Clear();
        for (int j = 0; j < values.Length; j++)
        {
            long bit = (long)j * bits;
            int word = (int)(bit / 32), shift = (int)(bit % 32);
            words[word] |= (int)(values[j] << shift);
            // A value that does not fit in the rest of this word continues at bit 0 of the next (3 bits only).
            if (shift + bits > 32) words[word + 1] |= (int)(values[j] >> (32 - shift));
        }
    }

    private static void Unpack(ReadOnlySpan<int> words, int bits, Span<uint> values)
    {
        uint mask = (1u << bits) - 1;
        for (int j = 0; j < values.Length; j++)
        {
            long bit = (long)j * bits;
            int word = (int)(bit / 32), shift = (int)(bit % 32);
            uint value = (uint)words[word] >> shift;
            if (shift + bits > 32) value |= (uint)words[word + 1] << (32 - shift);
            values[j] = value & mask;
        }
    }

    private static uint CheckValue(int value, int bits, string what) =>
        value >> bits == 0 ? (uint)value : throw new ArgumentException($"{what} {value} does not fit in {bits} bits.");

    private static void CheckBits(int bits)
    {
        if (!SupportedBits.Contains(bits)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "GPTQ packing supports 2, 3, 4 and 8 bits.");
    }
}
