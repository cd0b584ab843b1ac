using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Qllm.Tensors;
using Xunit;

namespace Qllm.Tests.Tensors;

public class HugePagesTests
{
    private const long Mb = 1L << 20;

    [Fact]
    public void RangesCloserThanAMegabyteMergeAndKeepOnlyWhole2MbPages()
    {
        // 1.5 MB arrays 256 bytes apart (consecutive allocations) form one run: 0.1 MB … 4.6 MB holds the page at 2 MB.
        var runs = HugePages.AlignedRuns([(3 * Mb + Mb / 10, 4 * Mb + 6 * Mb / 10), (Mb / 10, Mb / 10 + 3 * Mb / 2), (Mb / 10 + 3 * Mb / 2 + 256, 3 * Mb + Mb / 10 - 64)]);
        Assert.Equal([(2 * Mb, 4 * Mb)], runs);
    }

    [Fact]
    public void AGapOfAMegabyteSplitsRunsAndSmallRunsAreDropped()
    {
        var runs = HugePages.AlignedRuns([(0, 5 * Mb), (6 * Mb, 7 * Mb), (9 * Mb, 13 * Mb)]);
        // 0–5 MB holds pages at 0 and 2 MB; 6–7 MB holds none; 9–13 MB holds the page at 10 MB.
        Assert.Equal([(0L, 4 * Mb), (10 * Mb, 12 * Mb)], runs);
    }

    [Fact]
    public unsafe void AnAdvisedArrayKeepsItsContentsAndLiesOnHugePages()
    {
        var values = GC.AllocateArray<float>((int)(6 * Mb / sizeof(float)), pinned: true);
        for (int i = 0; i < values.Length; i++) values[i] = i * 0.5f;
        long covered = HugePages.Advise([values]);
        for (int i = 0; i < values.Length; i++) Assert.Equal(i * 0.5f, values[i]); // advice changes mappings, never data
        if (!HugePages.Enabled || !TransparentHugePagesAvailable()) return; // nothing to observe on this system
        Assert.True(covered >= 2 * Mb, $"a 6 MB array holds at least one whole 2 MB page, advised {covered} bytes");
        // The advice splits the mapping: look at the one holding the array's first whole 2 MB page.
        long firstPage = ((long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(values)) + 2 * Mb - 1) & ~(2 * Mb - 1);
        Assert.True(HugePageKilobytes(firstPage) >= 2048, "the array's mapping has no huge page after MADV_COLLAPSE");
    }

    [Fact]
    public void ArraysAcrossThePinnedHeapsRegionsAllGetHugePages()
    {
        // 40 arrays of 2.6 MB, allocated one after another, fill the pinned heap's 32 MB regions 12 at a time: each
        // region's uncommitted tail (under 1 MB, mapped PROT_NONE) then lies inside one merged run. A single
        // MADV_COLLAPSE over such a run stopped at the first of those pages (EINVAL), leaving the rest on 4 KB pages:
        // the 110M fp32 model had 240 of its 400 advised MB on huge pages.
        var arrays = Enumerable.Range(0, 40).Select(_ => GC.AllocateArray<float>((int)(26 * Mb / 10 / sizeof(float)), pinned: true)).ToArray();
        foreach (var array in arrays) array.AsSpan().Fill(1f);
        long covered = HugePages.Advise(arrays);
        if (!HugePages.Enabled || !TransparentHugePagesAvailable()) return;
        long first = arrays.Min(Address), last = arrays.Max(array => Address(array) + Buffer.ByteLength(array));
        long hugeBytes = HugePageKilobytesWithin(first, last) * 1024;
        Assert.True(hugeBytes >= covered * 9 / 10, $"{hugeBytes >> 20} of the {covered >> 20} advised MB lie on huge pages");
    }

    private static unsafe long Address(float[] array) => (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));

    private static bool TransparentHugePagesAvailable()
    {
        const string setting = "/sys/kernel/mm/transparent_hugepage/enabled";
        return File.Exists(setting) && !File.ReadAllText(setting).Contains("[never]");
    }

    /// <summary>AnonHugePages of the /proc/self/smaps mapping that contains the address.</summary>
    private static long HugePageKilobytes(long address) => HugePageKilobytesWithin(address, address + 1);

    /// <summary>AnonHugePages summed over the /proc/self/smaps mappings that overlap [first, last).</summary>
    private static long HugePageKilobytesWithin(long first, long last)
    {
        bool inside = false;
        long kilobytes = 0;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            if (dash > 0 && line.IndexOf(' ') > dash && long.TryParse(line[..dash], System.Globalization.NumberStyles.HexNumber, null, out long start)
                && long.TryParse(line[(dash + 1)..line.IndexOf(' ')], System.Globalization.NumberStyles.HexNumber, null, out long end))
                inside = start < last && first < end;
            else if (inside && line.StartsWith("AnonHugePages:"))
                kilobytes += long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        return kilobytes;
    }
}
