namespace Qllm.Tensors.Kernels;

/// <summary>
/// Writes the machine code of the 4-bit decode GEMV on AVX-512 VNNI (<see cref="LowBit4VnniKernels"/>): one whole
/// 32-row panel, every group's integer dot products and its float epilogue, in one call.
/// </summary>
/// <remarks>
/// The function (System V ABI): void panel(<see cref="LowBit4VnniKernels.PanelArguments"/>* rdi). Registers:
/// rsi codes, r8/r9/r10 the three slices (both advance block by block straight across group boundaries, as the
/// gathered row and the panel are laid out), rdx the group boundaries, r11 the groups left, rcx the blocks left in
/// the group, rax the σ's (3 a group), rbx the group sums, r13/r14 the scales/zeros (32 a group), zmm6/zmm7 y.
/// Per block:
/// <list type="bullet">
/// <item>zmm0/zmm1 load rows 0–15 / 16–31; <c>and 0x0F0F0F0F</c> keeps nibbles 0, 2, 4, 6 as the bytes of each
/// word, and a right shift by 4 first keeps nibbles 1, 3, 5, 7: the codes as unsigned bytes, 4 k-steps a word, the
/// operand layout of vpdpbusd (u8 × s8, four products summed into each int32 lane);</item>
/// <item>each slice holds 8 signed bytes a block: the activations of k-steps 0, 2, 4, 6, then 1, 3, 5, 7; each half
/// is broadcast from memory ({1to16}) straight into a vpdpbusd;</item>
/// <item>12 accumulators zmm16–27 (slice × parity × half) keep every vpdpbusd chain one deep per block;</item>
/// <item>the codes 8 KB ahead are prefetched into L2 (prefetching cannot fault, so running past the panel is harmless).</item>
/// </list>
/// At a group's end each half's term is y += scale ⊙ (σ₁·S₁ + σ₂·S₂ + σ₃·S₃ − zero·Σx), the Sᵢ the slices' integer
/// sums converted to float, in the order of the managed fp32 epilogue it replaces; an empty group (a g_idx may
/// leave one unused) adds nothing. Codes are at most 15 and slice bytes at most 127 in magnitude, so a group of up
/// to 1,100,000 k-steps cannot overflow int32. Keeping the epilogue here saves a call and a round trip of the sums
/// through memory per group: the managed epilogue took ~8% of a W4 decode step.
/// </remarks>
internal static class LowBit4VnniEmitter
{
    /// <summary>Bytes per block in each slice: 2 parities × 4 k-steps.</summary>
    public const int SliceBytesPerBlock = 8;

    /// <summary>
    /// How far ahead the codes are prefetched (see the block loop). Streaming 256 MB of W4 g128 layers one decode
    /// call at a time, every distance in turns in one process, each round classified by the read bandwidth measured
    /// in it (share of 32 KB's GB/s, medians):
    /// <list type="bullet">
    /// <item>2048×768 (0.88 MB a call), fast state (read ~52 GB/s, 384 rounds): 4 KB 0.96, 8 KB 1.07, 12 KB 1.05,
    /// 16 KB 1.05, 24 KB 1.01; t0 or nta at 16 KB 0.86 and 0.82; usual state (1086 rounds): 8 KB 1.035;</item>
    /// <item>768×768 (0.33 MB a call): 6 KB 1.12, 8 KB 1.13, 10 KB 1.10 (122 fast rounds), 8 KB 1.08 (1029 usual).</item>
    /// </list>
    /// A thread's chunk of a call is only 0.15–0.45 MB, and the first PrefetchBytes of each are read without a
    /// prefetch ahead, while the last PrefetchBytes' prefetches land past the chunk. Inside the W4 110M decode step
    /// (linears between attention and norms, a bf16 head half the bytes) 8 KB ran 1.011× as fast as 32 KB (43
    /// rounds in turns, mostly at usual bandwidth). Earlier figures that favoured 16–32 KB came from an A/B driver
    /// that ran the new variant after a turn of the same model, whose weights were still partly cached. All of these
    /// streams were measured before <see cref="HugePages"/> collapsed page by page, with most of the W4 copies on
    /// 4 KB pages; the decode step's own weights were then already on 2 MB pages.
    /// </summary>
    public const int PrefetchBytes = 8192;

    private const int Rax = EvexEncoder.Rax, Rcx = EvexEncoder.Rcx, Rdx = EvexEncoder.Rdx, Rbx = EvexEncoder.Rbx, Rsi = EvexEncoder.Rsi,
        R8 = EvexEncoder.R8, R9 = EvexEncoder.R9, R10 = EvexEncoder.R10, R11 = EvexEncoder.R11, R13 = EvexEncoder.R13, R14 = EvexEncoder.R14;
    private static readonly int[] SliceBase = [R8, R9, R10];

    private const int Mask = 31, Y0 = 6, Y1 = 7;

    public static byte[] Emit()
    {
        const int map0F = EvexEncoder.Map0F, map0F38 = EvexEncoder.Map0F38, pp66 = EvexEncoder.Pp66, ppF3 = EvexEncoder.PpF3, ppNone = 0;
        var code = new EvexEncoder();
        code.Bytes(0x53, 0x41, 0x55, 0x41, 0x56);                                       // push rbx; push r13; push r14
        // Load the arguments (see PanelArguments for the offsets).
        LoadArgument(code, R8, 0);
        LoadArgument(code, R9, 8);
        LoadArgument(code, R10, 16);
        LoadArgument(code, Rsi, 24);
        LoadArgument(code, Rdx, 32);
        LoadArgument(code, R11, 40);
        LoadArgument(code, Rax, 48);
        LoadArgument(code, Rbx, 56);
        LoadArgument(code, R13, 64);
        LoadArgument(code, R14, 72);
        code.Bytes(0xB9, 0x0F, 0x0F, 0x0F, 0x0F);                                       // mov ecx, 0x0F0F0F0F
        code.RegReg(map0F38, pp66, 0x7C, reg: Mask, vvvv: 0, rm: Rcx);     // vpbroadcastd zmm31, ecx
        foreach (int z in (int[])[Y0, Y1]) code.RegReg(map0F, pp66, 0xEF, reg: z, vvvv: z, rm: z); // vpxord
        for (int a = 16; a < 28; a++) code.RegReg(map0F, pp66, 0xEF, reg: a, vvvv: a, rm: a);

        int groupLoop = code.Position;
        code.Bytes(0x8B, 0x4A, 0x04);                    // mov ecx, [rdx + 4]
        code.Bytes(0x2B, 0x0A);                          // sub ecx, [rdx]: the group's blocks
        code.Bytes(0x85, 0xC9);                          // test ecx, ecx
        int skip = code.JumpIfZeroForward();             // an empty group adds nothing

        int blockLoop = code.Position;
        // The loop keeps too few loads in flight for DRAM's latency (its hot spots sit right after the two loads):
        // ask for the codes PrefetchBytes ahead, into L2. Without any prefetch, all 84 linears of the 110M shape in
        // turns took a median 1.83 ms a pass, against 1.60 with 8 KB ahead (24 rounds, one process).
        code.Bytes(0x0F, 0x18, 0x9E); code.Int32(PrefetchBytes);      // prefetcht2 [rsi + PrefetchBytes]
        code.Bytes(0x0F, 0x18, 0x9E); code.Int32(PrefetchBytes + 64); // prefetcht2 [rsi + PrefetchBytes + 64]
        code.RegMem(map0F, ppF3, 0x6F, reg: 0, vvvv: 0, memoryBase: Rsi, displacement: 0, n: 64);  // vmovdqu32 zmm0, [rsi]
        code.RegMem(map0F, ppF3, 0x6F, reg: 1, vvvv: 0, memoryBase: Rsi, displacement: 64, n: 64); // vmovdqu32 zmm1, [rsi + 64]
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
        code.Bytes(0x49, 0x83, 0xC0, SliceBytesPerBlock); // add r8, 8
        code.Bytes(0x49, 0x83, 0xC1, SliceBytesPerBlock); // add r9, 8
        code.Bytes(0x49, 0x83, 0xC2, SliceBytesPerBlock); // add r10, 8
        code.Bytes(0x48, 0x83, 0xEE, 0x80);               // sub rsi, -128
        code.Bytes(0xFF, 0xC9);                           // dec ecx
        code.JumpIfNotZero(blockLoop);

        // The group's epilogue, half by half (rows 0–15, 16–31); zmm8–11 are scratch.
        for (int half = 0; half < 2; half++)
        {
            for (int slice = 0; slice < 3; slice++)
            {
                int sum = Accumulator(slice, 0, half);
                code.RegReg(map0F, pp66, 0xFE, reg: sum, vvvv: sum, rm: Accumulator(slice, 1, half)); // vpaddd
                code.RegReg(map0F, ppNone, 0x5B, reg: 8 + slice, vvvv: 0, rm: sum);                    // vcvtdq2ps
            }
            const int dot = 11;
            code.RegMem(map0F, ppNone, 0x59, reg: dot, vvvv: 10, memoryBase: Rax, displacement: 8, n: 4, broadcast: true);  // vmulps dot, S₃, σ₃
            code.RegMem(map0F38, pp66, 0xB8, reg: dot, vvvv: 9, memoryBase: Rax, displacement: 4, n: 4, broadcast: true);   // vfmadd231ps dot, S₂, σ₂
            code.RegMem(map0F38, pp66, 0xB8, reg: dot, vvvv: 8, memoryBase: Rax, displacement: 0, n: 4, broadcast: true);   // vfmadd231ps dot, S₁, σ₁
            code.RegMem(map0F, ppNone, 0x10, reg: 8, vvvv: 0, memoryBase: R14, displacement: 64 * half, n: 64);                           // vmovups zmm8, zeros
            code.RegMem(map0F38, pp66, 0xBC, reg: dot, vvvv: 8, memoryBase: Rbx, displacement: 0, n: 4, broadcast: true);                // vfnmadd231ps dot, zeros, Σx
            code.RegMem(map0F38, pp66, 0xB8, reg: half == 0 ? Y0 : Y1, vvvv: dot, memoryBase: R13, displacement: 64 * half, n: 64);    // vfmadd231ps y, dot, scales
        }
        for (int a = 16; a < 28; a++) code.RegReg(map0F, pp66, 0xEF, reg: a, vvvv: a, rm: a); // vpxord acc, acc, acc

        code.Patch(skip);
        code.Bytes(0x48, 0x83, 0xC0, 12);                 // add rax, 12: the next group's σ's
        code.Bytes(0x48, 0x83, 0xC3, 4);                  // add rbx, 4
        code.Bytes(0x49, 0x83, 0xED, 0x80);               // sub r13, -128
        code.Bytes(0x49, 0x83, 0xEE, 0x80);               // sub r14, -128
        code.Bytes(0x48, 0x83, 0xC2, 4);                  // add rdx, 4
        code.Bytes(0x49, 0xFF, 0xCB);                     // dec r11
        code.JumpIfNotZero(groupLoop);

        LoadArgument(code, Rcx, 80);
        code.RegMem(map0F, ppNone, 0x11, reg: Y0, vvvv: 0, memoryBase: Rcx, displacement: 0, n: 64);  // vmovups [y], y0
        code.RegMem(map0F, ppNone, 0x11, reg: Y1, vvvv: 0, memoryBase: Rcx, displacement: 64, n: 64); // vmovups [y + 64], y1
        code.Bytes(0x41, 0x5E, 0x41, 0x5D, 0x5B);         // pop r14; pop r13; pop rbx
        code.Bytes(0xC5, 0xF8, 0x77);                     // vzeroupper
        code.Bytes(0xC3);                                 // ret
        return code.ToArray();
    }

    /// <summary>mov reg, [rdi + offset]: a 64-bit field of the argument block.</summary>
    private static void LoadArgument(EvexEncoder code, int reg, int offset) =>
        code.Bytes((byte)(0x48 | (reg >> 3) << 2), 0x8B, (byte)(0x40 | (reg & 7) << 3 | EvexEncoder.Rdi), (byte)offset);

    /// <summary>zmm2..5: the unpacked codes of (parity, half).</summary>
    private static int Unpacked(int parity, int half) => 2 + 2 * half + parity;

    private static int Accumulator(int slice, int parity, int half) => 16 + 4 * slice + 2 * parity + half;
}
