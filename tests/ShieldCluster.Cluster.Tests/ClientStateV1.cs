using ShieldCluster.Contracts;

namespace ShieldCluster.Cluster.Tests.PreviousRelease;

/// <summary>The first Redis release's ClientState, verbatim but for its name: what an old silo reads state as during a rolling update.</summary>
[GenerateSerializer, Alias("ShieldCluster.Tests.ClientStateV1")]
public sealed class ClientStateV1
{
    /// <summary>The profile of a client created at run time (configured clients take theirs from configuration).</summary>
    [Id(0)] public ClientProfile? Profile { get; set; }

    /// <summary>Tokens in the bucket as of <see cref="BucketUpdatedAt"/>.</summary>
    [Id(1)] public double BucketTokens { get; set; }

    /// <summary>When the bucket was last updated; null means it was never used (full).</summary>
    [Id(2)] public DateTimeOffset? BucketUpdatedAt { get; set; }

    /// <summary>The UTC day the quota counts, as <see cref="DateOnly.DayNumber"/>.</summary>
    [Id(3)] public int QuotaDayNumber { get; set; }

    /// <summary>Items used on <see cref="QuotaDayNumber"/>.</summary>
    [Id(4)] public long QuotaUsed { get; set; }

    /// <summary>Admitted requests in all.</summary>
    [Id(5)] public long TotalRequests { get; set; }

    /// <summary>Admitted items in all.</summary>
    [Id(6)] public long TotalItems { get; set; }

    /// <summary>Requests refused by rate limit or quota.</summary>
    [Id(7)] public long RefusedRequests { get; set; }

    /// <summary>Recent served requests, oldest first, bounded in items.</summary>
    [Id(8)] public List<QueryRecord> History { get; set; } = [];

    /// <summary>When the client was last admitted.</summary>
    [Id(9)] public DateTimeOffset? LastSeen { get; set; }

    /// <summary>The enforcement in force.</summary>
    [Id(10)] public EnforcementState Enforcement { get; set; }

    /// <summary>When a block ends; null with <see cref="EnforcementState.Blocked"/> means until unblocked.</summary>
    [Id(11)] public DateTimeOffset? BlockedUntil { get; set; }

    /// <summary>Whether an admin imposed the block (detectors never lift it).</summary>
    [Id(12)] public bool BlockedByAdmin { get; set; }

    /// <summary>The latest risk score in [0, 1].</summary>
    [Id(13)] public double Risk { get; set; }

    /// <summary>Recent security events, oldest first, bounded.</summary>
    [Id(14)] public List<SecurityEvent> Events { get; set; } = [];

    /// <summary>The sequence number of <see cref="History"/>'s first record (records are numbered from 0 as they arrive).</summary>
    [Id(15)] public long HistoryStart { get; set; }

    /// <summary>Records numbered below this are evidence already judged: an unblock resets the detectors to here.</summary>
    [Id(16)] public long DetectorsFrom { get; set; }

    /// <summary>Incremented with every report to the risk index, so the index keeps the newest.</summary>
    [Id(17)] public long RiskVersion { get; set; }

    /// <summary>The UTC day <see cref="NovelItems"/> counts, as <see cref="DateOnly.DayNumber"/>.</summary>
    [Id(18)] public int NovelDayNumber { get; set; }

    /// <summary>Novel (non-retry) items served on <see cref="NovelDayNumber"/>: the extraction detector's volume.</summary>
    [Id(19)] public long NovelItems { get; set; }
}
