namespace ShieldCluster.Contracts;

/// <summary>What the admin API shows about a client.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ClientReport")]
public sealed record ClientReport(
    [property: Id(0)] string ClientId,
    [property: Id(1)] ClientProfile Profile,
    [property: Id(2)] PlanLimits Limits,
    [property: Id(3)] UsageReport Usage,
    [property: Id(4)] int HistoryItems,
    [property: Id(5)] DateTimeOffset? LastSeen,
    [property: Id(6)] RiskReport Risk,
    [property: Id(7)] IReadOnlyList<TimelinePoint>? Timeline = null);

/// <summary>One minute of a client's served queries (from its history).</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.TimelinePoint")]
public sealed record TimelinePoint(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] int Requests,
    [property: Id(2)] int Items);

/// <summary>A client's risk: the score, the enforcement in force, each detector's verdict and the recent security events.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.RiskReport")]
public sealed record RiskReport(
    [property: Id(0)] double Score,
    [property: Id(1)] EnforcementState Enforcement,
    [property: Id(2)] DateTimeOffset? BlockedUntil,
    [property: Id(3)] IReadOnlyList<DetectorEvidence> Detectors,
    [property: Id(4)] IReadOnlyList<SecurityEvent> Events);

/// <summary>One detector's verdict on a client.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.DetectorEvidence")]
public sealed record DetectorEvidence(
    [property: Id(0)] string Detector,
    [property: Id(1)] double Score,
    [property: Id(2)] bool MonitorOnly,
    [property: Id(3)] string Evidence);

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
