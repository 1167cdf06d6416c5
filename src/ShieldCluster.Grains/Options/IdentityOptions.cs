namespace ShieldCluster.Grains.Options;

/// <summary>Plans, configured clients and admins, bound from the <c>Shield</c> section.</summary>
public sealed class IdentityOptions
{
    /// <summary>The configuration section these keys live under.</summary>
    public const string Section = "Shield";

    /// <summary>The plan every client gets unless configured otherwise.</summary>
    public const string DefaultPlan = "standard";

    /// <summary>Plans by name; <c>standard</c> always exists.</summary>
    public Dictionary<string, PlanOptions> Plans { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Clients defined in configuration, by client id.</summary>
    public Dictionary<string, ClientOptions> Clients { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Admins by name.</summary>
    public Dictionary<string, AdminOptions> Admins { get; set; } = new(StringComparer.Ordinal);
}
