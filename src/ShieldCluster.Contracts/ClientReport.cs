namespace ShieldCluster.Contracts;

/// <summary>What the admin API shows about a client.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ClientReport")]
public sealed record ClientReport(
    [property: Id(0)] string ClientId,
    [property: Id(1)] ClientProfile Profile,
    [property: Id(2)] PlanLimits Limits,
    [property: Id(3)] UsageReport Usage,
    [property: Id(4)] int HistoryItems,
    [property: Id(5)] DateTimeOffset? LastSeen);

/// <summary>A plan's limits as they apply to the client.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.PlanLimits")]
public sealed record PlanLimits(
    [property: Id(0)] double RequestsPerSecond,
    [property: Id(1)] int Burst,
    [property: Id(2)] long DailyQuota);

/// <summary>A client's usage: admitted requests and items in all, and items today (UTC).</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.UsageReport")]
public sealed record UsageReport(
    [property: Id(0)] long TotalRequests,
    [property: Id(1)] long TotalItems,
    [property: Id(2)] long ItemsToday,
    [property: Id(3)] long RefusedRequests);
