namespace ShieldCluster.Server.Options;

/// <summary>Secrets of the detection layer, bound from <c>Shield:Detection</c>. Never logged.</summary>
public sealed class SecretOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shield:Detection";

    /// <summary>
    /// The secret salt of Blacklight fingerprints (at least 16 characters). Unset in the embedded
    /// default: a random salt per process.
    /// </summary>
    public string? Salt { get; set; }

    /// <inheritdoc />
    public override string ToString() => "SecretOptions { Salt = *** }";
}
