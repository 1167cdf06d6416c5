namespace ShieldCluster.Console.Tests;

/// <summary>The browser tests share one server process and one browser.</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleServerCollection : ICollectionFixture<ConsoleServer>
{
    public const string Name = "console server";
}
