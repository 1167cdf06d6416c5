using System.ComponentModel.DataAnnotations;

namespace ShieldCluster.Server.Options;

/// <summary>Cluster settings, bound from the <c>Shield</c> section.</summary>
public sealed class ShieldOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shield";

    /// <summary>Orleans cluster id. Default <c>shield</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,64}$")]
    public string ClusterId { get; set; } = "shield";

    /// <summary>Orleans service id. Default <c>shield</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,64}$")]
    public string ServiceId { get; set; } = "shield";

    /// <summary>Silo-to-silo port. Default 11111.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans client gateway port. Default 30000.</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// StackExchange.Redis connection string for Redis clustering and storage. Unset: the embedded
    /// default (localhost clustering, in-memory storage).
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Running as pods on Kubernetes: the silo takes its name, address and cluster ids from the pod
    /// (POD_NAME, POD_NAMESPACE, POD_IP, ORLEANS_SERVICE_ID, ORLEANS_CLUSTER_ID) and removes pods of
    /// silos that membership declared dead. Needs <see cref="Redis"/> (membership lives there). Default false.
    /// </summary>
    public bool Kubernetes { get; set; }

    /// <summary>
    /// The Orleans Dashboard at <c>/dashboard</c> for operators, behind the admin key (any role; a
    /// browser signs in with any user name and the key as password). Default true; it profiles
    /// grain calls, so turn it off where every microsecond counts.
    /// </summary>
    public bool Dashboard { get; set; } = true;
}
