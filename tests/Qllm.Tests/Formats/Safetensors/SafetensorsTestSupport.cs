using System.Buffers.Binary;
using System.Text;
using Qllm.Common;
using Xunit;

namespace Qllm.Tests.Formats.Safetensors;

/// <summary>A unique folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "qllm-st-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class RawSafetensors
{
    /// <summary>8-byte little-endian length, the header text as UTF-8, then the data.</summary>
    public static byte[] Build(string header, byte[]? data = null, ulong? headerLength = null) =>
        Build(Encoding.UTF8.GetBytes(header), data, headerLength);

    public static byte[] Build(byte[] header, byte[]? data = null, ulong? headerLength = null)
    {
        data ??= [];
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>Asserts that running <paramref name="action"/> fails with a ModelFormatException naming the file (and tensor).</summary>
    public static ModelFormatException AssertFails(Action action, string path, string? tensor, string? detail = null)
    {
        var e = Assert.Throws<ModelFormatException>(action);
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Equal(tensor, e.TensorName);
        if (tensor is not null)
            Assert.Contains($"tensor '{tensor}'", e.Message);
        if (detail is not null)
            Assert.Contains(detail, e.Message);
        return e;
    }
}
