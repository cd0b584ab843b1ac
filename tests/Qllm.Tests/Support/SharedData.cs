namespace Qllm.Tests.Support;

/// <summary>The ../shared folder beside the repository (models and data sets; see its README.md).</summary>
public static class SharedData
{
    public static string Root { get; } = Locate();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Qllm.sln")))
            {
                string shared = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared"));
                if (File.Exists(System.IO.Path.Combine(shared, "README.md"))) return shared;
                throw new DirectoryNotFoundException($"../shared (models and data sets) not found beside the repository at {shared}.");
            }
        throw new DirectoryNotFoundException("repository root (Qllm.sln) not found above " + AppContext.BaseDirectory);
    }
}
