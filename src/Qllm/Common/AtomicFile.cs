using System.Text;

namespace Qllm.Common;

/// <summary>
/// Writes a file so that a reader (or a crash) sees either the old file or the complete new one,
/// never a half-written file: the content goes to a temporary file in the same folder (so the
/// final rename stays on one file system and is atomic), is flushed to disk, and is then moved
/// over the destination. If anything fails, the temporary file is deleted and the destination is
/// left untouched.
/// </summary>
/// <remarks>
/// The folder itself is not fsynced after the rename (.NET has no API for it), so after a power
/// loss the rename may be lost, but the destination is never torn. On Linux a reader that has the
/// old file open or memory-mapped keeps seeing the old content; on Windows the move fails while
/// the old file is mapped.
/// </remarks>
public static class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes <paramref name="path"/> atomically; <paramref name="write"/> fills the stream. Creates the folder if needed.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);

        string full = Path.GetFullPath(path);
        string fileName = Path.GetFileName(full);
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || fileName.Length == 0)
            throw new ArgumentException($"'{path}' does not name a file.", nameof(path));
        Directory.CreateDirectory(folder);

        // Hidden, unique and recognisable, so a leftover from a killed process is easy to spot.
        string temp = Path.Combine(folder, $".{fileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (without a byte-order mark) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, Utf8NoBom.GetBytes(text));
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original exception is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
