namespace Qllm.Tensors.Kernels;

/// <summary>
/// Writes the x86-64 machine code of the AVX-512 VNNI int8 tile (<see cref="Avx512Int8Kernels"/>). .NET 10 exposes
/// <c>vpdpbusd</c> only as AvxVnni (VEX, 256-bit: Intel client cores, absent on Zen 4) and inside Avx10v1 (not on
/// Zen 4 either), so the 512-bit form that Zen 4 and Xeons have is emitted here: a fixed loop of a few instruction
/// kinds, each encoded by <see cref="EvexEncoder"/>.
/// </summary>
/// <remarks>
/// The function (System V ABI): void tile(byte* a = rdi, sbyte* b = rsi, long k4 = rdx, int* c = rcx), for
/// <c>rows</c> = 1..8. Per k4 step it loads the panel's 128 bytes (32 columns × 4 k) into zmm0/zmm1, broadcasts
/// row r's 4 activation bytes (a + 4r) into zmm(2+r) and issues two vpdpbusd into zmm(16+2r), zmm(17+2r); then
/// a += 32, b += 128. At the end the accumulators are stored as c[r·32 + j], 128 bytes a row.
/// </remarks>
internal static class VnniTileEmitter
{
    public static byte[] Emit(int rows)
    {
        if (rows is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(rows));
        const int map0F = EvexEncoder.Map0F, map0F38 = EvexEncoder.Map0F38, pp66 = EvexEncoder.Pp66, ppF3 = EvexEncoder.PpF3;
        var code = new EvexEncoder();
        for (int r = 0; r < 2 * rows; r++) code.RegReg(map0F, pp66, 0xEF, reg: 16 + r, vvvv: 16 + r, rm: 16 + r); // vpxord acc, acc, acc
        int loop = code.Position;
        code.RegMem(map0F, ppF3, 0x6F, reg: 0, vvvv: 0, memoryBase: EvexEncoder.Rsi, displacement: 0, n: 64);  // vmovdqu32 zmm0, [rsi]
        code.RegMem(map0F, ppF3, 0x6F, reg: 1, vvvv: 0, memoryBase: EvexEncoder.Rsi, displacement: 64, n: 64); // vmovdqu32 zmm1, [rsi + 64]
        for (int r = 0; r < rows; r++)
        {
            code.RegMem(map0F38, pp66, 0x58, reg: 2 + r, vvvv: 0, memoryBase: EvexEncoder.Rdi, displacement: 4 * r, n: 4); // vpbroadcastd zmm(2+r), [rdi + 4r]
            code.RegReg(map0F38, pp66, 0x50, reg: 16 + 2 * r, vvvv: 2 + r, rm: 0);                                      // vpdpbusd acc, a(u8), b(s8)
            code.RegReg(map0F38, pp66, 0x50, reg: 17 + 2 * r, vvvv: 2 + r, rm: 1);
        }
        code.Bytes(0x48, 0x83, 0xC7, 0x20); // add rdi, 32
        code.Bytes(0x48, 0x83, 0xEE, 0x80); // sub rsi, -128
        code.Bytes(0x48, 0xFF, 0xCA);       // dec rdx
        code.JumpIfNotZero(loop);
        for (int r = 0; r < 2 * rows; r++)
            code.RegMem(map0F, ppF3, 0x7F, reg: 16 + r, vvvv: 0, memoryBase: EvexEncoder.Rcx, displacement: 64 * r, n: 64); // vmovdqu32 [rcx + 64r], acc
        code.Bytes(0xC5, 0xF8, 0x77); // vzeroupper
        code.Bytes(0xC3);             // ret
        return code.ToArray();
    }
}
