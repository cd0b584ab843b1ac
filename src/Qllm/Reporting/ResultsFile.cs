using System.Text.Json;
using System.Text.Json.Nodes;
using Qllm.Common;

namespace Qllm.Reporting;

/// <summary>Writes a results document as indented JSON, atomically (temporary file, then rename).</summary>
public static class ResultsFile
{
    /// <summary>Indented; a non-finite number (a diverged model's perplexity, an exact layer's SQNR) is written "Infinity" rather than failing the whole report.</summary>
    public static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write(string path, JsonObject document)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder != null && !Directory.Exists(folder)) throw new QllmException($"--output: folder '{folder}' does not exist.");
        try
        {
            AtomicFile.WriteAllText(path, document.ToJsonString(Indented) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new QllmException($"--output: cannot write '{path}': {e.Message}");
        }
    }
}
