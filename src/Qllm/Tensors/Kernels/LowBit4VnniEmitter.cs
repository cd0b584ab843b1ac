namespace Qllm.Tensors.Kernels;

/// <summary>
/// Writes the machine code of the 4-bit decode GEMV's inner loop on AVX-512 VNNI (<see cref="LowBit4VnniKernels"/>):
/// one group of one 32-row panel, Σ code · a over the group's k for three int8 slices a of the activations.
/// </summary>
/// <remarks>
/// The function (System V ABI): void group(sbyte* slice0 = rdi, uint* codes = rsi, long blocks = rdx, int* sums = rcx,
/// sbyte* slice1 = r8, sbyte* slice2 = r9), blocks ≥ 1. A block is 32 words (rows) of 8 nibbles (k-steps). Per block:
/// <list type="bullet">
/// <item>zmm0/zmm1 load rows 0–15 / 16–31; <c>and 0x0F0F0F0F</c> keeps nibbles 0, 2, 4, 6 as the bytes of each
/// word, and a right shift by 4 first keeps nibbles 1, 3, 5, 7: the codes as unsigned bytes, 4 k-steps a word, the
/// operand layout of vpdpbusd (u8 × s8, four products summed into each int32 lane);</item>
/// <item>each slice holds 8 signed bytes a block: the activations of k-steps 0, 2, 4, 6, then 1, 3, 5, 7; each half
/// is broadcast from memory ({1to16}) straight into a vpdpbusd;</item>
/// <item>12 accumulators zmm16–27 (slice × parity × half) keep every vpdpbusd chain one deep per block;</item>
/// <item>the codes 2 KB ahead are prefetched (prefetching cannot fault, so running past the panel is harmless).</item>
/// </list>
/// At the end each parity pair is added and the six sums are stored at rcx: [slice][half][16 lanes]. Codes are at most
/// 15 and slice bytes at most 127 in magnitude, so a group of up to 1,100,000 k-steps cannot overflow int32.
/// </remarks>
internal static class LowBit4VnniEmitter
{
    /// <summary>Bytes per block in each slice: 2 parities × 4 k-steps.</summary>
    public const int SliceBytesPerBlock = 8;

    private const int PrefetchBytes = 2048;

    private static readonly int[] SliceBase = [EvexEncoder.Rdi, EvexEncoder.R8, EvexEncoder.R9];

    private const int Mask = 31;

    public static byte[] Emit()
    {
        const int map0F = EvexEncoder.Map0F, map0F38 = EvexEncoder.Map0F38, pp66 = EvexEncoder.Pp66, ppF3 = EvexEncoder.PpF3;
        var code = new EvexEncoder();
        code.Bytes(0xB8, 0x0F, 0x0F, 0x0F, 0x0F);                                       // mov eax, 0x0F0F0F0F
        code.RegReg(map0F38, pp66, 0x7C, reg: Mask, vvvv: 0, rm: EvexEncoder.Rax);     // vpbroadcastd zmm31, eax
        for (int a = 16; a < 28; a++) code.RegReg(map0F, pp66, 0xEF, reg: a, vvvv: a, rm: a); // vpxord acc, acc, acc
        int loop = code.Position;
        // The loop keeps too few loads in flight for DRAM's latency (its hot spots sit right after the two loads):
        // ask for the codes 16 blocks ahead. Measured in turns with fp32 (bench decode-ratio): W4 decode with a bf16
        // head went from a median of 277 to 292 tokens/s (1, 2, 4 and 8 KB ahead all gave 292–294).
        code.Bytes(0x0F, 0x18, 0x8E); code.Int32(PrefetchBytes);      // prefetcht0 [rsi + PrefetchBytes]
        code.Bytes(0x0F, 0x18, 0x8E); code.Int32(PrefetchBytes + 64); // prefetcht0 [rsi + PrefetchBytes + 64]
        code.RegMem(map0F, ppF3, 0x6F, reg: 0, vvvv: 0, memoryBase: EvexEncoder.Rsi, displacement: 0, n: 64);  // vmovdqu32 zmm0, [rsi]
        code.RegMem(map0F, ppF3, 0x6F, reg: 1, vvvv: 0, memoryBase: EvexEncoder.Rsi, displacement: 64, n: 64); // vmovdqu32 zmm1, [rsi + 64]
        for (int half = 0; half < 2; half++)
        {
            int even = Unpacked(0, half), odd = Unpacked(1, half);
            code.RegReg(map0F, pp66, 0xDB, reg: even, vvvv: half, rm: Mask); // vpandd even, src, mask
            code.RegReg(map0F, pp66, 0x72, reg: 2, vvvv: odd, rm: half);     // vpsrld odd, src, 4 (0F 72 /2 ib)
            code.Bytes(4);
            code.RegReg(map0F, pp66, 0xDB, reg: odd, vvvv: odd, rm: Mask);   // vpandd odd, odd, mask
        }
        for (int slice = 0; slice < 3; slice++)
            for (int parity = 0; parity < 2; parity++)
                for (int half = 0; half < 2; half++)
                    // vpdpbusd acc, codes (u8), [slice base + 4·parity]{1to16} (s8)
                    code.RegMem(map0F38, pp66, 0x50, reg: Accumulator(slice, parity, half), vvvv: Unpacked(parity, half),
                        memoryBase: SliceBase[slice], displacement: 4 * parity, n: 4, broadcast: true);
        code.Bytes(0x48, 0x83, 0xC7, SliceBytesPerBlock); // add rdi, 8
        code.Bytes(0x49, 0x83, 0xC0, SliceBytesPerBlock); // add r8, 8
        code.Bytes(0x49, 0x83, 0xC1, SliceBytesPerBlock); // add r9, 8
        code.Bytes(0x48, 0x83, 0xEE, 0x80);               // sub rsi, -128
        code.Bytes(0x48, 0xFF, 0xCA);                     // dec rdx
        code.JumpIfNotZero(loop);
        for (int slice = 0; slice < 3; slice++)
            for (int half = 0; half < 2; half++)
            {
                int sum = Accumulator(slice, 0, half);
                code.RegReg(map0F, pp66, 0xFE, reg: sum, vvvv: sum, rm: Accumulator(slice, 1, half)); // vpaddd
                code.RegMem(map0F, ppF3, 0x7F, reg: sum, vvvv: 0, memoryBase: EvexEncoder.Rcx, displacement: 64 * (2 * slice + half), n: 64); // vmovdqu32 [rcx + ..], sum
            }
        code.Bytes(0xC5, 0xF8, 0x77); // vzeroupper
        code.Bytes(0xC3);             // ret
        return code.ToArray();
    }

    /// <summary>zmm2..5: the unpacked codes of (parity, half).</summary>
    private static int Unpacked(int parity, int half) => 2 + 2 * half + parity;

    private static int Accumulator(int slice, int parity, int half) => 16 + 4 * slice + 2 * parity + half;
}
