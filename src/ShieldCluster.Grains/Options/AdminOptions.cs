namespace ShieldCluster.Grains.Options;

/// <summary>A named admin, bound from <c>Shield:Admins:&lt;name&gt;</c>.</summary>
public sealed class AdminOptions
{
    /// <summary>SHA-256 of the admin's key, 64 hex digits. Required.</summary>
    public string ApiKeySha256 { get; set; } = "";

    /// <summary>The admin's role: <c>security</c> or <c>viewer</c> (default). Any other value stops start-up.</summary>
    public string Role { get; set; } = "viewer";

    /// <summary>The parsed role, or null when <see cref="Role"/> names none.</summary>
    public AdminRole? ParsedRole => Role.ToLowerInvariant() switch
    {
        "security" => AdminRole.Security,
        "viewer" => AdminRole.Viewer,
        _ => null,
    };
}

/// <summary>What an admin may do.</summary>
public enum AdminRole
{
    /// <summary>GET routes and <c>/metrics</c> only.</summary>
    Viewer = 0,

    /// <summary>Everything.</summary>
    Security = 1,
}
