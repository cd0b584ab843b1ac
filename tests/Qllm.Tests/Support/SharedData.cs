namespace Qllm.Tests.Support;

/// <summary>
/// The project's shared models and data sets: <c>QLLM_SHARED</c> when set, else the <c>shared</c> folder
/// beside the repository root (the layout the guide prescribes; the data are never copied into the repo).
/// </summary>
public static class SharedData
{
    public const string EnvironmentVariable = "QLLM_SHARED";

    private static readonly Lazy<string> Located = new(Locate);
    private static readonly Lazy<string> Repository = new(FindRepositoryRoot);

    public static string Root => Located.Value;

    /// <summary>The folder holding Qllm.sln (for tests that read the repository's own documents).</summary>
    public static string RepositoryRoot => Repository.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
            return RequireReadme(System.IO.Path.GetFullPath(fromEnvironment), $"{EnvironmentVariable}='{fromEnvironment}'");

        string shared = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot, "..", "shared"));
        return RequireReadme(shared, $"'{shared}' (beside the repository root '{RepositoryRoot}'; set {EnvironmentVariable} to use another folder)");
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Qllm.sln"))) dir = dir.Parent;
        return dir?.FullName
            ?? throw new InvalidOperationException($"SharedData: no folder holding Qllm.sln above '{AppContext.BaseDirectory}'; cannot locate ../shared (or set {EnvironmentVariable}).");
    }

    private static string RequireReadme(string shared, string description) =>
        File.Exists(System.IO.Path.Combine(shared, "README.md"))
            ? shared
            : throw new InvalidOperationException($"SharedData: {description} is missing or has no README.md.");
}
