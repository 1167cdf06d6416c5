using ShieldCluster.Protection.Risk;

namespace ShieldCluster.Grains.Options;

/// <summary>
/// A plan's limits, bound from <c>Shield:Plans:&lt;name&gt;</c>. The defaults are the built-in
/// <c>standard</c> plan's; any key may be overridden.
/// </summary>
public sealed class PlanOptions
{
    /// <summary>Token-bucket refill rate in requests per second. Default 20.</summary>
    public double RequestsPerSecond { get; set; } = 20;

    /// <summary>Token-bucket capacity in requests. Default 40.</summary>
    public int Burst { get; set; } = 40;

    /// <summary>Items (a batch of N counts N) per UTC day. Default 100,000.</summary>
    public long DailyQuota { get; set; } = 100_000;

    /// <summary>How this plan's clients are enforced as their risk rises (<c>Shield:Plans:&lt;name&gt;:Risk</c>).</summary>
    public RiskPolicy Risk { get; set; } = new();
}
