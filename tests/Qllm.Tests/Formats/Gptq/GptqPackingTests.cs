using Qllm.Formats.Gptq;
using Xunit;

namespace Qllm.Tests.Formats.Gptq;

/// <summary>
/// The packing against words written out by hand from AutoGPTQ's layout rules (qlinear_cuda_old pack():
/// 32/bits codes per int32 along the input dimension, lowest bits first; 3 bits as 32 codes in 3 words with
/// codes 10 and 21 split across word boundaries; qzeros store zero − 1 packed along the output dimension).
/// </summary>
public class GptqPackingTests
{
    /// <summary>4 bits, in = 16, out = 8: code[r, c] = (r + c) mod 16, so each word reads as a run of hex digits.</summary>
    [Fact]
    public void FourBitQWeightMatchesTheHandPackedWords()
    {
        const int rows = 8, columns = 16;
        var codes = new byte[rows * columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) codes[r * columns + c] = (byte)((r + c) % 16);

        // qweight [16·4/32 = 2, 8]: word (k, r) = Σ_j code[r, 8k + j] << 4j, so code 8k lands in the lowest nibble
        // and the hex digits read from right to left. Row r, k = 0 holds codes r..r+7; k = 1 holds r+8..r+15 (mod 16).
        int[] expected =
        [
            // k = 0: r = 0 → codes 0,1,…,7 → 0x76543210; r = 1 → codes 1,…,8 → 0x87654321; …
            0x76543210, unchecked((int)0x87654321), unchecked((int)0x98765432), unchecked((int)0xA9876543),
            unchecked((int)0xBA987654), unchecked((int)0xCBA98765), unchecked((int)0xDCBA9876), unchecked((int)0xEDCBA987),
            // k = 1: r = 0 → codes 8,…,15 → 0xFEDCBA98; r = 1 → codes 9,…,15,0 → 0x0FEDCBA9; …
            unchecked((int)0xFEDCBA98), 0x0FEDCBA9, 0x10FEDCBA, 0x210FEDCB,
            0x3210FEDC, 0x43210FED, 0x543210FE, 0x6543210F,
        ];
        Assert.Equal(expected, GptqPacking.PackQWeight(codes, rows, columns, 4));
        Assert.Equal(codes, GptqPacking.UnpackQWeight(expected, rows, columns, 4));
    }

    /// <summary>4 bits, out = 8, two groups: the zero − 1 convention, packed along the output dimension.</summary>
    [Fact]
    public void FourBitQZerosStoreZeroMinusOne()
    {
        const int rows = 8, groups = 2;
        var zeros = new float[rows * groups];   // [out, groups]
        for (int r = 0; r < rows; r++)
        {
            zeros[r * groups] = r + 1;          // group 0: zeros 1..8, stored 0..7
            zeros[r * groups + 1] = 8;          // group 1: the symmetric zero 2^(4−1) = 8, stored 7 in every field
        }
        // qzeros [2, 8·4/32 = 1]: group 0 → Σ_r (zero_r − 1) << 4r = 0x76543210; group 1 → 0x77777777.
        int[] expected = [0x76543210, 0x77777777];
        Assert.Equal(expected, GptqPacking.PackQZeros(zeros, rows, groups, 4));
        Assert.Equal(zeros, GptqPacking.UnpackQZeros(expected, rows, groups, 4));
    }

    /// <summary>
    /// 3 bits, in = 32: 96 bits in 3 words. Code j sits at stream bits 3j..3j+2: codes 0–9 in word 0, code 10 at
    /// bits 30–31 of word 0 plus bit 0 of word 1, codes 11–20 at bits 1–30 of word 1, code 21 at bit 31 of word 1
    /// plus bits 0–1 of word 2, codes 22–31 at bits 2–31 of word 2.
    /// </summary>
    [Fact]
    public void ThreeBitQWeightSplitsCodes10And21AcrossWords()
    {
        const int rows = 3, columns = 32;
        var codes = new byte[rows * columns];
        codes[10] = 0b101;                 // row 0: only the two straddling codes are non-zero
        codes[21] = 0b111;
        for (int c = 0; c < columns; c++)
        {
            codes[columns + c] = (byte)(c is 10 or 21 ? 0 : 1);   // row 1: every code 1 except the straddling ones
            codes[2 * columns + c] = 7;                           // row 2: all ones
        }

        int[] expected =
        [
            // word 0. Row 0: low two bits of code 10 (0b01) at bit 30 → 0x40000000.
            //         Row 1: 1 << 3j for j = 0..9 → 0x09249249.  Row 2: all 32 bits set.
            0x40000000, 0x09249249, -1,
            // word 1. Row 0: bit 2 of code 10 → bit 0; bit 0 of code 21 → bit 31 → 0x80000001.
            //         Row 1: 1 << (3(j − 11) + 1) for j = 11..20 → 0x09249249 << 1 = 0x12492492.
            unchecked((int)0x80000001), 0x12492492, -1,
            // word 2. Row 0: bits 1–2 of code 21 (0b11) → bits 0–1 → 0x3.
            //         Row 1: 1 << (3(j − 22) + 2) for j = 22..31 → 0x09249249 << 2 = 0x24924924.
            0x3, 0x24924924, -1,
        ];
        Assert.Equal(expected, GptqPacking.PackQWeight(codes, rows, columns, 3));
        Assert.Equal(codes, GptqPacking.UnpackQWeight(expected, rows, columns, 3));
    }

    /// <summary>3 bits, out = 32, symmetric zero 4 stored as 3 = 0b011 in every field: the stream …011011011.</summary>
    [Fact]
    public void ThreeBitQZerosSplitAcrossWords()
    {
        var zeros = Enumerable.Repeat(4f, 32).ToArray();
        // word 0: 3 · 0x09249249 = 0x1B6DB6DB for outputs 0–9, plus the low bits 0b11 of output 10 at bit 30 → 0xDB6DB6DB.
        // word 1: bit 0 = bit 2 of output 10 = 0; outputs 11–20 → 0x1B6DB6DB << 1 = 0x36DB6DB6; bit 31 = bit 0 of output 21 → 0xB6DB6DB6.
        // word 2: bits 0–1 = bits 1–2 of output 21 = 0b01; outputs 22–31 → 0x1B6DB6DB << 2 = 0x6DB6DB6C → 0x6DB6DB6D.
        int[] expected = [unchecked((int)0xDB6DB6DB), unchecked((int)0xB6DB6DB6), 0x6DB6DB6D];
        Assert.Equal(expected, GptqPacking.PackQZeros(zeros, 32, 1, 3));
        Assert.Equal(zeros, GptqPacking.UnpackQZeros(expected, 32, 1, 3));
    }

    /// <summary>2 bits, in = 16 (16 codes per word), and 8 bits, in = 8 (4 codes per word).</summary>
    [Fact]
    public void TwoAndEightBitWordsMatchTheHandPackedWords()
    {
        // 2 bits. Row 0: codes 0,1,2,3 repeated → each byte 0b11_10_01_00 = 0xE4. Row 1: all 2 = 0b10 → 0xAAAAAAAA.
        var codes2 = new byte[2 * 16];
        for (int c = 0; c < 16; c++) { codes2[c] = (byte)(c % 4); codes2[16 + c] = 2; }
        int[] qweight2 = [unchecked((int)0xE4E4E4E4), unchecked((int)0xAAAAAAAA)];
        Assert.Equal(qweight2, GptqPacking.PackQWeight(codes2, 2, 16, 2));
        // Zeros 2 (symmetric) and 1, stored 1 and 0: 1 | 0 << 2.
        Assert.Equal([0x1], GptqPacking.PackQZeros([2f, 1f], 2, 1, 2));

        // 8 bits. Codes 0x01, 0x23, …, 0xEF: the first word holds the first four codes, lowest byte first.
        byte[] codes8 = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF];
        Assert.Equal([0x67452301, unchecked((int)0xEFCDAB89)], GptqPacking.PackQWeight(codes8, 1, 8, 8));
        // Zeros 128 (symmetric) and 1 → stored 0x7F and 0x00.
        Assert.Equal([0x7F], GptqPacking.PackQZeros([128f, 1f], 2, 1, 8));
    }

    [Theory]
    [InlineData(2, 7, 48)]
    [InlineData(3, 5, 64)]
    [InlineData(3, 33, 40)]
    [InlineData(4, 13, 24)]
    [InlineData(8, 3, 20)]
    [InlineData(4, 1, 8)]
    public void PackThenUnpackGivesTheCodesAndZerosBack(int bits, int rows, int columns)
    {
        var random = new Random(bits * 1000 + rows);
        int maxQ = (1 << bits) - 1, groups = 3;
        var codes = new byte[rows * columns];
        for (int i = 0; i < codes.Length; i++) codes[i] = (byte)random.Next(maxQ + 1);
        var zeros = new float[rows * groups];
        for (int i = 0; i < zeros.Length; i++) zeros[i] = random.Next(maxQ + 1);
        zeros[0] = 0;
        zeros[^1] = maxQ;

        int[] qweight = GptqPacking.PackQWeight(codes, rows, columns, bits);
        Assert.Equal(GptqPacking.PackedLength(columns, bits) * rows, qweight.Length);
        Assert.Equal(codes, GptqPacking.UnpackQWeight(qweight, rows, columns, bits));
        int[] qzeros = GptqPacking.PackQZeros(zeros, rows, groups, bits);
        Assert.Equal(groups * GptqPacking.PackedLength(rows, bits), qzeros.Length);
        Assert.Equal(zeros, GptqPacking.UnpackQZeros(qzeros, rows, groups, bits));
    }

    [Fact]
    public void ZeroOfZeroStaysInsideItsField()
    {
        // (0 − 1) mod 16 = 15 in field 1 only; the neighbouring fields keep their own values (stored 2 and 4).
        int[] qzeros = GptqPacking.PackQZeros([3f, 0f, 5f], 3, 1, 4);
        Assert.Equal([0x4F2], qzeros);
        Assert.Equal([3f, 0f, 5f], GptqPacking.UnpackQZeros(qzeros, 3, 1, 4));
    }

    [Fact]
    public void GptqV2ZerosAreStoredWithoutTheOffset()
    {
        Assert.Equal([8f, 3f], GptqPacking.UnpackQZeros([0x38], 2, 1, 4, offset: 0));
    }

    [Fact]
    public void ValuesOutsideTheGridAreRefused()
    {
        Assert.Throws<ArgumentException>(() => GptqPacking.PackQWeight([16], 1, 1, 4));
        Assert.Throws<ArgumentException>(() => GptqPacking.PackQZeros([2.5f], 1, 1, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => GptqPacking.PackQWeight([1], 1, 1, 5));
    }
}
