namespace ShieldCluster.Cli.Tests;

/// <summary>Every test class shares one server process (start-up is the slow part).</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
