namespace ShieldCluster.Testing;

/// <summary>Locates the repository (the directory holding ShieldCluster.sln) from a test's output directory.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Models => Path.Combine(Root, "models");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ShieldCluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"ShieldCluster.sln not found above {AppContext.BaseDirectory}");
    }
}
