namespace ShieldCluster.Grains.Keys;

/// <summary>What an API-key grain keeps: the client the key belongs to.</summary>
[GenerateSerializer, Alias("ShieldCluster.ApiKeyState")]
public sealed class ApiKeyState
{
    /// <summary>The client id, or null when unbound.</summary>
    [Id(0)] public string? ClientId { get; set; }
}
