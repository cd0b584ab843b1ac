using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// The 4-bit decode GEMV on AVX-512 VNNI: integer dot products instead of float unpacking. The fp32 GEMV spends a
/// rotate, a ternary-logic op and an FMA on every 16 weights and is bound by those operations, not by memory; here
/// 64 weights cost one vpdpbusd per activation slice plus 1.5 unpacking operations: twice the fp32 kernel's speed
/// from cache, so a decode step no longer waits on the arithmetic at this machine's usual memory bandwidth.
/// </summary>
/// <remarks>
/// The result is the fp32 one, not an int8 approximation: each group's gathered activations are split as
/// x = σ₁·a₁ + σ₂·a₂ + σ₃·a₃ + r with int8 a's (σ₁ = max|x|/127, σ₂ = σ₁/254, σ₃ = σ₂/254), so |r| ≤ σ₃/2 ≈
/// 6·10⁻⁸·max|x|, the size of fp32 rounding. Σ code·aᵢ is exact in int32, and the group's term is
/// scale ⊙ (Σᵢ σᵢ·Σ code·aᵢ − zero · Σx) with Σx the fp32 group sum, as in the fp32 kernel.
/// </remarks>
internal static unsafe class LowBit4VnniKernels
{
    private static readonly nint Panel = Create();

    /// <summary>True where the CPU has AVX-512 VNNI and the code could be made executable.</summary>
    public static bool IsAvailable => Panel != 0;

    /// <summary>Bytes of the three slices of <paramref name="blocks"/> blocks (8 k-steps each) of gathered activations.</summary>
    public static int SliceBytes(int blocks) => 3 * blocks * LowBit4VnniEmitter.SliceBytesPerBlock;

    /// <summary>Where slice i of block b sits: the three slices are consecutive arrays of 8 bytes a block.</summary>
    public static int SliceOffset(int slice, int block, int blocks) => (slice * blocks + block) * LowBit4VnniEmitter.SliceBytesPerBlock;

    /// <summary>
    /// Splits a gathered activation row (group order, groups padded to whole blocks) into the three int8 slices of
    /// every group, in the emitted loop's byte order (k-steps 0, 2, 4, 6, 1, 3, 5, 7 of each block), and the groups'
    /// σ₁, σ₂, σ₃. Each residual is one fused multiply-add, so it is the exact remainder up to one rounding of a
    /// value σ/2 in size, far below the final σ₃/2.
    /// </summary>
    public static void Slice(float* x, int* groupBlocks, int groups, sbyte* slices, float* sigmas)
    {
        int total = groupBlocks[groups];
        var order = Vector128.Create((sbyte)0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15);
        for (int g = 0; g < groups; g++)
        {
            int firstBlock = groupBlocks[g], blocks = groupBlocks[g + 1] - firstBlock;
            float max = blocks == 0 ? 0f : MathF.Abs(TensorPrimitives.MaxMagnitude(new ReadOnlySpan<float>(x + firstBlock * 8, blocks * 8)));
            float s1 = max / 127f, s2 = s1 / 254f, s3 = s2 / 254f;
            sigmas[3 * g] = s1; sigmas[3 * g + 1] = s2; sigmas[3 * g + 2] = s3;
            bool zero = max == 0f || !float.IsFinite(max);
            if (!float.IsFinite(max)) sigmas[3 * g] = float.NaN; // a non-finite input gives a non-finite output, as in fp32
            var (i1, i2, i3) = zero ? (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero)
                : (Vector256.Create(1f / s1), Vector256.Create(1f / s2), Vector256.Create(1f / s3));
            Vector256<float> v1 = Vector256.Create(s1), v2 = Vector256.Create(s2);
            for (int block = firstBlock; block < firstBlock + blocks; block++)
            {
                var value = Vector256.Load(x + block * 8);
                var a1 = Avx.RoundToNearestInteger(value * i1);
                var residual = Vector256.FusedMultiplyAdd(-v1, a1, value);
                var a2 = Avx.RoundToNearestInteger(residual * i2);
                residual = Vector256.FusedMultiplyAdd(-v2, a2, residual);
                var a3 = Avx.RoundToNearestInteger(residual * i3);
                Store(a1, order, slices + SliceOffset(0, block, total));
                Store(a2, order, slices + SliceOffset(1, block, total));
                Store(a3, order, slices + SliceOffset(2, block, total));
            }
        }
    }

    /// <summary>8 integral floats (at most 127.5 in magnitude before clamping) → 8 bytes in the loop's k order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> integral, Vector128<sbyte> order, sbyte* destination)
    {
        var clamped = Vector256.Clamp(Vector256.ConvertToInt32(integral), Vector256.Create(-127), Vector256.Create(127));
        var bytes = Ssse3.Shuffle(Avx512F.VL.ConvertToVector128SByte(clamped), order);
        Unsafe.WriteUnaligned(destination, bytes.AsUInt64().ToScalar());
    }

    /// <summary>The emitted panel function's arguments, read through one pointer (offsets fixed in the emitter).</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    internal struct PanelArguments
    {
        public sbyte* Slice0, Slice1, Slice2;
        public uint* Codes;
        public int* GroupBlocks;
        public long Groups;
        public float* Sigmas, GroupSums, Scales, Zeros, Y;
    }

    /// <summary>
    /// y[32] = Σ_g scale_g ⊙ (Σ_{k∈g} x_k · code_k − zero_g · Σ_{k∈g} x_k) for one panel and one row, as
    /// <c>LowBitKernel.Gemv32</c>, from the row's slices (<see cref="Slice"/>) and its fp32 group sums.
    /// </summary>
    public static void Gemv32(sbyte* slices, float* sigmas, float* groupSums, uint* codes, int* groupBlocks, int groups, float* scales, float* zeros, float* y)
    {
        if (groups == 0)
        {
            new Span<float>(y, 32).Clear();
            return;
        }
        int total = groupBlocks[groups], first = groupBlocks[0];
        var arguments = new PanelArguments
        {
            Slice0 = slices + SliceOffset(0, first, total),
            Slice1 = slices + SliceOffset(1, first, total),
            Slice2 = slices + SliceOffset(2, first, total),
            Codes = codes + (long)first * 32,
            GroupBlocks = groupBlocks,
            Groups = groups,
            Sigmas = sigmas,
            GroupSums = groupSums,
            Scales = scales,
            Zeros = zeros,
            Y = y,
        };
        ((delegate* unmanaged[SuppressGCTransition]<PanelArguments*, void>)Panel)(&arguments);
    }

    private static nint Create()
    {
        if (!KernelSelector.HasAvx512Vnni) return 0;
        return (nint)ExecutableMemory.TryCreate(LowBit4VnniEmitter.Emit());
    }
}
