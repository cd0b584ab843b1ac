using Qllm.Common;
using Xunit;

namespace Qllm.Tests.Formats.Safetensors;

/// <summary>AtomicFile, which the safetensors writer relies on.</summary>
public class SafetensorsAtomicFileTests
{
    [Fact]
    public void WritesAndOverwrites()
    {
        using var dir = new TempDir();
        string path = dir.File("sub/out.txt");
        AtomicFile.WriteAllText(path, "first");
        AtomicFile.WriteAllText(path, "second é");
        Assert.Equal("second é", File.ReadAllText(path));
        Assert.Equal((byte)'s', File.ReadAllBytes(path)[0]); // no byte-order mark
        Assert.Single(Directory.GetFiles(dir.File("sub")));
    }

    [Fact]
    public void FailureLeavesTheOldFileAndNoTemporaryFile()
    {
        using var dir = new TempDir();
        string path = dir.File("out.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1000]);
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ReplacingAMappedSafetensorsFileKeepsTheOpenReaderValid()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        Qllm.Formats.Safetensors.SafetensorsWriter.Write(path, [Qllm.Formats.Safetensors.SafetensorsWriter.Float32("w", [2], [1f, 2f])]);
        using var old = Qllm.Formats.Safetensors.SafetensorsFile.Open(path);
        if (!OperatingSystem.IsWindows()) // Windows refuses to replace a mapped file
        {
            Qllm.Formats.Safetensors.SafetensorsWriter.Write(path, [Qllm.Formats.Safetensors.SafetensorsWriter.Float32("w", [2], [5f, 6f])]);
            Assert.Equal([1f, 2f], old.ReadFloat32("w"));
            using var updated = Qllm.Formats.Safetensors.SafetensorsFile.Open(path);
            Assert.Equal([5f, 6f], updated.ReadFloat32("w"));
        }
    }
}
