namespace ShieldCluster.Contracts;

/// <summary>
/// Maps one API key, keyed by the key's SHA-256 (lower-case hex), to the client it belongs to.
/// The key itself never reaches a grain.
/// </summary>
[Alias("ShieldCluster.IApiKeyGrain")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    /// <summary>Binds this key to <paramref name="clientId"/>; false if it is bound to another client.</summary>
    [Alias("BindAsync")]
    Task<bool> BindAsync(string clientId);

    /// <summary>The client this key belongs to, or null.</summary>
    [Alias("ResolveAsync")]
    Task<string?> ResolveAsync();
}
