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
    /// browser signs in with any user name and the key as password). Default true.
    /// </summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>
    /// The dashboard's grain-method statistics (calls, latency and errors per grain method): its
    /// profiler is a filter on every grain call, which costs every request about 1 KB of allocation
    /// and an extra asynchronous step whether or not anyone is looking (measured with the load
    /// generator), so it is off unless asked for. Default false; the rest of the dashboard
    /// (silos, activations, their CPU and memory) does not need it.
    /// </summary>
    public bool DashboardProfiling { get; set; }
}
