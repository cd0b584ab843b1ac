using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qllm.Tensors.Kernels;

/// <summary>Which instruction set the kernels use. <see cref="Auto"/> picks the widest the CPU has.</summary>
public enum KernelPath { Auto, Avx512, Avx2, Portable }

/// <summary>
/// Run-time kernel selection. <c>QLLM_KERNEL=avx512|avx2|portable</c> or <see cref="Force"/> pins a path
/// (tests run every path on one machine this way); a path the CPU lacks falls back to the next narrower one.
/// </summary>
public static class KernelSelector
{
    private static KernelPath _forced = Parse(Environment.GetEnvironmentVariable("QLLM_KERNEL"));

    public static KernelPath Force(KernelPath path)
    {
        var previous = _forced;
        _forced = path;
        return previous;
    }

    public static KernelPath Current
    {
        get
        {
            bool avx512 = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
            bool avx2 = Avx2.IsSupported && Fma.IsSupported;
            return _forced switch
            {
                KernelPath.Avx512 when avx512 => KernelPath.Avx512,
                KernelPath.Avx512 or KernelPath.Avx2 when avx2 => KernelPath.Avx2,
                KernelPath.Auto => avx512 ? KernelPath.Avx512 : avx2 ? KernelPath.Avx2 : KernelPath.Portable,
                _ => KernelPath.Portable,
            };
        }
    }

    /// <summary>
    /// AVX-512 VNNI (CPUID leaf 7, sub-leaf 0: ECX bit 11), for the kernels emitted as machine code; <c>QLLM_VNNI=0</c>
    /// turns them off (to compare against the intrinsics kernels). Avx512BW being supported means the OS saves zmm
    /// state. Not a <see cref="KernelPath"/>: those kernels sit inside the AVX-512 path.
    /// </summary>
    public static bool HasAvx512Vnni { get; } =
        Avx512BW.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0 && Environment.GetEnvironmentVariable("QLLM_VNNI") != "0";

    private static KernelPath Parse(string? text) => text?.ToLowerInvariant() switch
    {
        "avx512" => KernelPath.Avx512,
        "avx2" => KernelPath.Avx2,
        "portable" => KernelPath.Portable,
        _ => KernelPath.Auto,
    };
}
