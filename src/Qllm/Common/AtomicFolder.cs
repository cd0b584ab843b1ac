namespace Qllm.Common;

/// <summary>
/// Creates a folder so that it appears complete or not at all: the content is written into a hidden temporary
/// folder beside the target (same file system, so the final rename is atomic), then renamed to the target.
/// If anything fails the temporary folder is deleted.
/// </summary>
/// <remarks>
/// An existing target that holds anything is refused rather than replaced: a folder cannot be swapped for
/// another atomically, and deleting a user's files (perhaps the very checkpoint being read) is worse than
/// asking for a new name. An empty target, such as one made by the caller, is replaced.
/// </remarks>
public static class AtomicFolder
{
    public static void Write(string folder, Action<string> fill)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        string parent = Path.GetDirectoryName(full) ?? throw new QllmException($"'{folder}' cannot be written: it names no folder.");
        if (File.Exists(full)) throw new QllmException($"{full}: a file of that name exists; choose a folder name for the output.");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new QllmException($"{full}: the output folder exists and is not empty; choose a new folder or delete it first.");
        Directory.CreateDirectory(parent);

        // Hidden, unique and recognisable, so a leftover from a killed process is easy to spot.
        string temp = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            fill(temp);
            if (Directory.Exists(full)) Directory.Delete(full);   // empty, checked above
            Directory.Move(temp, full);
        }
        catch
        {
            try { Directory.Delete(temp, recursive: true); }
            catch (IOException) { }                           // best effort: the original error is the one to report
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
