namespace Qllm.Tests.Support;

/// <summary>
/// Locates the shared models and data: walks up from the test binaries to the repository root (the folder
/// holding Qllm.sln) and uses &lt;repo root&gt;/../shared, which must contain README.md.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> Located = new(Locate);

    public static string Root => Located.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Locate()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Qllm.sln"))) dir = dir.Parent;
        if (dir is null)
            throw new InvalidOperationException($"SharedData: no folder holding Qllm.sln above '{AppContext.BaseDirectory}'; cannot locate ../shared.");
        string shared = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared"));
        if (!File.Exists(System.IO.Path.Combine(shared, "README.md")))
            throw new InvalidOperationException($"SharedData: '{shared}' (beside the repository root '{dir.FullName}') is missing or has no README.md.");
        return shared;
    }
}
