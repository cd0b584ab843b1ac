using System.Text.Json;
using System.Text.Json.Nodes;
using Qllm.Common;

namespace Qllm.Reporting;

/// <summary>Writes a results document as indented JSON, atomically (temporary file, then rename).</summary>
public static class ResultsFile
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Write(string path, JsonObject document)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder != null && !Directory.Exists(folder)) throw new QllmException($"--output: folder '{folder}' does not exist.");
        string temporary = full + $".tmp-{Environment.ProcessId}";
        try
        {
            File.WriteAllText(temporary, document.ToJsonString(Indented) + "\n");
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new QllmException($"--output: cannot write '{path}': {e.Message}");
        }
    }
}
