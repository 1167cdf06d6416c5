namespace ShieldCluster.Grains.Options;

/// <summary>A client defined in configuration, bound from <c>Shield:Clients:&lt;id&gt;</c>.</summary>
public sealed class ClientOptions
{
    /// <summary>SHA-256 of the client's API key, 64 hex digits. Required; the key itself is never configured.</summary>
    public string ApiKeySha256 { get; set; } = "";

    /// <summary>The client's plan. Default <c>standard</c>; an unknown plan stops start-up.</summary>
    public string Plan { get; set; } = "standard";

    /// <summary>Models the client may use; empty means all. A model outside the list answers 404.</summary>
    public List<string> Models { get; set; } = [];
}
