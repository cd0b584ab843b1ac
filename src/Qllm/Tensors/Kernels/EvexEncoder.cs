namespace Qllm.Tensors.Kernels;

/// <summary>
/// Encodes the few AVX-512 instruction forms our emitted kernels use (<see cref="VnniTileEmitter"/>,
/// <see cref="LowBit4VnniEmitter"/>): EVEX.512.W0, no masking, from the Intel SDM's EVEX layout (vol. 2, §2.7).
/// .NET 10 does not expose the 512-bit <c>vpdpbusd</c> on Zen 4, so the kernels that need it are written as bytes.
/// </summary>
internal sealed class EvexEncoder
{
    public const int Map0F = 1, Map0F38 = 2;
    public const int Pp66 = 1, PpF3 = 2;
    public const int Rax = 0, Rcx = 1, Rdx = 2, Rbx = 3, Rsi = 6, Rdi = 7, R8 = 8, R9 = 9, R10 = 10, R11 = 11, R13 = 13, R14 = 14;

    private readonly List<byte> _code = [];

    public int Position => _code.Count;

    public byte[] ToArray() => [.. _code];

    /// <summary>Raw bytes: the general-purpose instructions (mov, add, dec, push, ret) written out by hand at the call site.</summary>
    public void Bytes(params byte[] bytes) => _code.AddRange(bytes);

    public void Int32(int value) => _code.AddRange(BitConverter.GetBytes(value));

    /// <summary>Register–register form: reg, vvvv and rm name zmm0..31 (rm may also be a general register where the opcode says so).</summary>
    public void RegReg(int map, int pp, byte opcode, int reg, int vvvv, int rm)
    {
        Prefix(map, pp, reg, vvvv, b: rm >> 3 & 1, x: rm >> 4 & 1, broadcast: false);
        _code.Add(opcode);
        _code.Add((byte)(0xC0 | (reg & 7) << 3 | rm & 7));
    }

    /// <summary>
    /// Memory form [base + displacement] (base a general register other than rsp/r12, which would need a SIB byte).
    /// A displacement that is a multiple of the operand's size n fits EVEX's compressed disp8. With
    /// <paramref name="broadcast"/> (EVEX.b) one 32-bit element is read and repeated over the vector ({1to16}); n is then 4.
    /// </summary>
    public void RegMem(int map, int pp, byte opcode, int reg, int vvvv, int memoryBase, int displacement, int n, bool broadcast = false)
    {
        if ((memoryBase & 7) == 4) throw new ArgumentException("rsp/r12 bases need a SIB byte, not emitted here.");
        Prefix(map, pp, reg, vvvv, b: memoryBase >> 3 & 1, x: 0, broadcast);
        _code.Add(opcode);
        int rm = memoryBase & 7;
        if (displacement == 0 && rm != 5)
            _code.Add((byte)((reg & 7) << 3 | rm));
        else if (displacement % n == 0 && displacement / n is >= -128 and <= 127)
        {
            _code.Add((byte)(0x40 | (reg & 7) << 3 | rm));
            _code.Add((byte)(sbyte)(displacement / n));
        }
        else
        {
            _code.Add((byte)(0x80 | (reg & 7) << 3 | rm));
            Int32(displacement);
        }
    }

    /// <summary><c>jnz</c> back to <paramref name="target"/> (rel32, counted from the end of the instruction).</summary>
    public void JumpIfNotZero(int target)
    {
        int back = target - (Position + 6);
        Bytes(0x0F, 0x85);
        Int32(back);
    }

    /// <summary><c>jz</c> forward to a place not yet written: returns the spot that <see cref="Patch"/> fills in.</summary>
    public int JumpIfZeroForward()
    {
        Bytes(0x0F, 0x84);
        Int32(0);
        return Position;
    }

    /// <summary>Points the forward jump that ended at <paramref name="jumpEnd"/> here.</summary>
    public void Patch(int jumpEnd)
    {
        var offset = BitConverter.GetBytes(Position - jumpEnd);
        for (int i = 0; i < 4; i++) _code[jumpEnd - 4 + i] = offset[i];
    }

    /// <summary>62 P0 P1 P2: the register-extension bits stored inverted, L'L = 10 (512-bit), no masking.</summary>
    private void Prefix(int map, int pp, int reg, int vvvv, int b, int x, bool broadcast)
    {
        _code.Add(0x62);
        _code.Add((byte)((~reg >> 3 & 1) << 7 | (~x & 1) << 6 | (~b & 1) << 5 | (~reg >> 4 & 1) << 4 | map));
        _code.Add((byte)((~vvvv & 0xF) << 3 | 1 << 2 | pp));
        _code.Add((byte)(0b10 << 5 | (broadcast ? 1 : 0) << 4 | (~vvvv >> 4 & 1) << 3));
    }
}
