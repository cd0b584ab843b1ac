using Qllm.Common;

namespace Qllm.Evaluation;

/// <summary>
/// Where the data sets live: <c>--data-dir</c>, else <c>QLLM_DATA_DIR</c>, else a <c>shared/data</c>
/// folder under <c>QLLM_SHARED</c>, beside the working directory or beside any folder above the program
/// (the project's ../shared).
/// </summary>
public static class DataDirectory
{
    public const string EnvironmentVariable = "QLLM_DATA_DIR";

    /// <summary>The shared models-and-data folder, when it does not sit beside the repository.</summary>
    public const string SharedEnvironmentVariable = "QLLM_SHARED";

    public static string Resolve(string? explicitDirectory)
    {
        if (explicitDirectory != null)
        {
            if (!Directory.Exists(explicitDirectory)) throw new QllmException($"--data-dir: folder '{explicitDirectory}' does not exist.");
            return explicitDirectory;
        }
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            if (!Directory.Exists(fromEnvironment)) throw new QllmException($"{EnvironmentVariable}: folder '{fromEnvironment}' does not exist.");
            return fromEnvironment;
        }
        return FindShared("data") ?? throw new QllmException(
            $"no data folder found: pass --data-dir, set {EnvironmentVariable}, or run beside ../shared/data.");
    }

    /// <summary>Finds $QLLM_SHARED/&lt;sub&gt;, else shared/&lt;sub&gt; beside the working directory or beside any ancestor of it or of the program.</summary>
    public static string? FindShared(string sub)
    {
        if (Environment.GetEnvironmentVariable(SharedEnvironmentVariable) is { Length: > 0 } shared
            && Directory.Exists(Path.Combine(shared, sub)))
            return Path.GetFullPath(Path.Combine(shared, sub));
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared", sub);
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
                candidate = Path.Combine(dir.FullName, "shared", sub);
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            }
        }
        return null;
    }
}
