namespace ShieldCluster.Contracts;

/// <summary>Who a client is: its plan, the models it may use (null: all) and where it came from.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ClientProfile")]
public sealed record ClientProfile(
    [property: Id(0)] string Plan,
    [property: Id(1)] IReadOnlyList<string>? Models,
    [property: Id(2)] ClientSource Source,
    [property: Id(3)] DateTimeOffset CreatedAt)
{
    /// <summary>Whether the client may use <paramref name="model"/>.</summary>
    public bool Allows(string model) => Models is null || Models.Contains(model, StringComparer.Ordinal);
}

/// <summary>Where a client was defined.</summary>
[GenerateSerializer, Alias("ShieldCluster.ClientSource")]
public enum ClientSource
{
    /// <summary>From configuration (<c>Shield:Clients</c>).</summary>
    Configuration = 0,

    /// <summary>Created through <c>POST /admin/clients</c>.</summary>
    AdminApi = 1,

    /// <summary>The embedded default's demo client.</summary>
    Demo = 2,
}
