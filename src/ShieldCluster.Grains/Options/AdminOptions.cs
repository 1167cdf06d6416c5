namespace ShieldCluster.Grains.Options;

/// <summary>A named admin, bound from <c>Shield:Admins:&lt;name&gt;</c>.</summary>
public sealed class AdminOptions
{
    /// <summary>SHA-256 of the admin's key, 64 hex digits. Required.</summary>
    public string ApiKeySha256 { get; set; } = "";

    /// <summary>The admin's role. Default <see cref="AdminRole.Viewer"/>.</summary>
    public AdminRole Role { get; set; } = AdminRole.Viewer;
}

/// <summary>What an admin may do.</summary>
public enum AdminRole
{
    /// <summary>GET routes and <c>/metrics</c> only.</summary>
    Viewer = 0,

    /// <summary>Everything.</summary>
    Security = 1,
}
