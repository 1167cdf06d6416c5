using System.ComponentModel.DataAnnotations;

namespace ShieldCluster.Server.Audit;

/// <summary>The audit trail and alert webhook, bound from <c>Shield:Audit</c>.</summary>
public sealed class AuditOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shield:Audit";

    /// <summary>How long entries are kept. Default 90 days.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Entries the embedded default keeps in memory. Default 100,000.</summary>
    [Range(100, 10_000_000)]
    public int MemoryCapacity { get; set; } = 100_000;

    /// <summary>Entries held in memory while Redis is unreachable, written when it returns. Default 100,000; beyond it the oldest are dropped (counted and logged).</summary>
    [Range(100, 10_000_000)]
    public int PendingCapacity { get; set; } = 100_000;
}
