namespace ShieldCluster.Server.Identity;

/// <summary>The client a request's key resolved to, and the models it may use (null: all).</summary>
public sealed record ClientIdentity(string ClientId, IReadOnlyList<string>? Models, string? KeyHash = null)
{
    /// <summary>Whether the client may use <paramref name="model"/>.</summary>
    public bool Allows(string model) => Models is null || Models.Contains(model, StringComparer.Ordinal);
}
