namespace Qllm.Tensors.Kernels;

/// <summary>
/// Writes the x86-64 machine code of the AVX-512 VNNI int8 tile (<see cref="Avx512Int8Kernels"/>). .NET 10 exposes
/// <c>vpdpbusd</c> only as AvxVnni (VEX, 256-bit: Intel client cores, absent on Zen 4) and inside Avx10v1 (not on
/// Zen 4 either), so the 512-bit form that Zen 4 and Xeons have is emitted here: a fixed loop of a few instruction
/// kinds, each encoded by <see cref="Evex"/> from the Intel SDM's EVEX layout (vol. 2, §2.7).
/// </summary>
/// <remarks>
/// The function (System V ABI): void tile(byte* a = rdi, sbyte* b = rsi, long k4 = rdx, int* c = rcx), for
/// <c>rows</c> = 1..8. Per k4 step it loads the panel's 128 bytes (32 columns × 4 k) into zmm0/zmm1, broadcasts
/// row r's 4 activation bytes (a + 4r) into zmm(2+r) and issues two vpdpbusd into zmm(16+2r), zmm(17+2r); then
/// a += 32, b += 128. At the end the accumulators are stored as c[r·32 + j], 128 bytes a row.
/// </remarks>
internal static class VnniTileEmitter
{
    private const int Map0F = 1, Map0F38 = 2;
    private const int Pp66 = 1, PpF3 = 2;
    private const int Rdi = 7, Rsi = 6, Rcx = 1;

    public static byte[] Emit(int rows)
    {
        if (rows is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(rows));
        var code = new List<byte>();
        for (int r = 0; r < 2 * rows; r++) Evex(code, Map0F, Pp66, 0xEF, reg: 16 + r, vvvv: 16 + r, rm: 16 + r); // vpxord acc, acc, acc
        int loop = code.Count;
        Evex(code, Map0F, PpF3, 0x6F, reg: 0, vvvv: 0, memoryBase: Rsi, displacement: 0, n: 64);   // vmovdqu32 zmm0, [rsi]
        Evex(code, Map0F, PpF3, 0x6F, reg: 1, vvvv: 0, memoryBase: Rsi, displacement: 64, n: 64);  // vmovdqu32 zmm1, [rsi + 64]
        for (int r = 0; r < rows; r++)
        {
            Evex(code, Map0F38, Pp66, 0x58, reg: 2 + r, vvvv: 0, memoryBase: Rdi, displacement: 4 * r, n: 4); // vpbroadcastd zmm(2+r), [rdi + 4r]
            Evex(code, Map0F38, Pp66, 0x50, reg: 16 + 2 * r, vvvv: 2 + r, rm: 0);                             // vpdpbusd acc, a(u8), b(s8)
            Evex(code, Map0F38, Pp66, 0x50, reg: 17 + 2 * r, vvvv: 2 + r, rm: 1);
        }
        code.AddRange([0x48, 0x83, 0xC7, 0x20]); // add rdi, 32
        code.AddRange([0x48, 0x83, 0xEE, 0x80]); // sub rsi, -128
        code.AddRange([0x48, 0xFF, 0xCA]);       // dec rdx
        int back = loop - (code.Count + 6);
        code.AddRange([0x0F, 0x85]);             // jnz loop (rel32 from the next instruction)
        code.AddRange(BitConverter.GetBytes(back));
        for (int r = 0; r < 2 * rows; r++)
            Evex(code, Map0F, PpF3, 0x7F, reg: 16 + r, vvvv: 0, memoryBase: Rcx, displacement: 64 * r, n: 64); // vmovdqu32 [rcx + 64r], acc
        code.AddRange([0xC5, 0xF8, 0x77]); // vzeroupper
        code.Add(0xC3);                    // ret
        return [.. code];
    }

    /// <summary>EVEX.512.W0 register–register form: reg, vvvv and rm name zmm0..31.</summary>
    private static void Evex(List<byte> code, int map, int pp, byte opcode, int reg, int vvvv, int rm)
    {
        Prefix(code, map, pp, reg, vvvv, b: rm >> 3 & 1, x: rm >> 4 & 1);
        code.Add(opcode);
        code.Add((byte)(0xC0 | (reg & 7) << 3 | rm & 7));
    }

    /// <summary>
    /// EVEX.512.W0 with a memory operand [base + displacement] (base a general register other than rsp/r12, which
    /// would need a SIB byte). A displacement that is a multiple of the operand's size n fits EVEX's compressed disp8.
    /// </summary>
    private static void Evex(List<byte> code, int map, int pp, byte opcode, int reg, int vvvv, int memoryBase, int displacement, int n)
    {
        if ((memoryBase & 7) == 4) throw new ArgumentException("rsp/r12 bases need a SIB byte, not emitted here.");
        Prefix(code, map, pp, reg, vvvv, b: memoryBase >> 3 & 1, x: 0);
        code.Add(opcode);
        int rm = memoryBase & 7;
        if (displacement == 0 && rm != 5)
            code.Add((byte)((reg & 7) << 3 | rm));
        else if (displacement % n == 0 && displacement / n is >= -128 and <= 127)
        {
            code.Add((byte)(0x40 | (reg & 7) << 3 | rm));
            code.Add((byte)(sbyte)(displacement / n));
        }
        else
        {
            code.Add((byte)(0x80 | (reg & 7) << 3 | rm));
            code.AddRange(BitConverter.GetBytes(displacement));
        }
    }

    /// <summary>62 P0 P1 P2: the register-extension bits stored inverted, L'L = 10 (512-bit), no masking or broadcast.</summary>
    private static void Prefix(List<byte> code, int map, int pp, int reg, int vvvv, int b, int x)
    {
        code.Add(0x62);
        code.Add((byte)((~reg >> 3 & 1) << 7 | (~x & 1) << 6 | (~b & 1) << 5 | (~reg >> 4 & 1) << 4 | map));
        code.Add((byte)((~vvvv & 0xF) << 3 | 1 << 2 | pp));
        code.Add((byte)(0b10 << 5 | (~vvvv >> 4 & 1) << 3));
    }
}
