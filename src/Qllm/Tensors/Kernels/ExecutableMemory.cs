using System.Runtime.InteropServices;

namespace Qllm.Tensors.Kernels;

/// <summary>
/// A page of machine code made executable once (mmap, then mprotect to read + execute, never writable and
/// executable at once), for kernels whose instructions .NET does not expose. Linux x64 only; elsewhere
/// <see cref="TryCreate"/> returns null and callers take an intrinsics path.
/// </summary>
internal static unsafe partial class ExecutableMemory
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20;

    /// <summary>The code copied into fresh executable pages (kept for the process's life), or null when not possible here.</summary>
    public static byte* TryCreate(ReadOnlySpan<byte> code)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        nuint length = (nuint)((code.Length + 4095) & ~4095);
        nint page = Mmap(0, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (page == -1) return null;
        code.CopyTo(new Span<byte>((void*)page, code.Length));
        if (Mprotect(page, length, ProtRead | ProtExec) != 0) return null;
        return (byte*)page;
    }

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int descriptor, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(nint address, nuint length, int protection);
}
