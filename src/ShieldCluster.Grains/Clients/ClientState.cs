using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Clients;

/// <summary>
/// What a client grain keeps in durable storage. Versioned: fields are only ever added (a state
/// written by an earlier release loads with the new fields at their defaults), and
/// <see cref="Version"/> says which migrations have run.
/// </summary>
[GenerateSerializer, Alias("ShieldCluster.ClientState")]
public sealed class ClientState
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

    /// <summary>Version 1 kept the query history here; version 2 keeps it in <see cref="ClientHistory"/> (migrated on activation).</summary>
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

    /// <summary>Version 1's <see cref="ClientHistory.Start"/> (migrated on activation).</summary>
    [Id(15)] public long HistoryStart { get; set; }

    /// <summary>Records numbered below this are evidence already judged: an unblock resets the detectors to here.</summary>
    [Id(16)] public long DetectorsFrom { get; set; }

    /// <summary>Incremented with every report to the risk index, so the index keeps the newest.</summary>
    [Id(17)] public long RiskVersion { get; set; }

    /// <summary>The UTC day <see cref="NovelItems"/> counts, as <see cref="DateOnly.DayNumber"/>.</summary>
    [Id(18)] public int NovelDayNumber { get; set; }

    /// <summary>Novel (non-retry) items served on <see cref="NovelDayNumber"/>: the extraction detector's volume.</summary>
    [Id(19)] public long NovelItems { get; set; }

    /// <summary>The state's format: 0 or 1 as written by the first release (history inside), <see cref="CurrentVersion"/> now.</summary>
    [Id(20)] public int Version { get; set; }

    /// <summary>
    /// The client's API keys by SHA-256, with when each stops working (null: until rotated). Empty
    /// for clients created before keys were tracked here: their key grain alone decides.
    /// </summary>
    [Id(21)] public List<ClientKey> Keys { get; set; } = [];

    /// <summary>
    /// Answers per class (index: the label) among the novel items of <see cref="NovelDayNumber"/>: the
    /// extraction detector's class coverage. Empty in states written before it was kept (counted from then on).
    /// </summary>
    [Id(22)] public List<long> NovelLabelCounts { get; set; } = [];

    /// <summary>The most classes of the models those items were answered by (0: unknown).</summary>
    [Id(23)] public int NovelClasses { get; set; }

    /// <summary>
    /// The activation that wrote this state (a random id per activation): a write refused for its
    /// ETag whose stored state carries the writer's own id is its earlier write, which landed though
    /// its call failed; another id is another activation of the client (see <see cref="ClientStateMerge"/>).
    /// </summary>
    [Id(24)] public Guid Writer { get; set; }

    /// <summary>The format this release writes.</summary>
    public const int CurrentVersion = 2;
}

/// <summary>One API key of a client, by its SHA-256, and when it stops working (null: until rotated).</summary>
[GenerateSerializer, Alias("ShieldCluster.ClientKey")]
public sealed record ClientKey([property: Id(0)] string Hash, [property: Id(1)] DateTimeOffset? ValidUntil);

/// <summary>
/// A client's query history (the detectors' compact features), stored apart from its durable
/// state: it is written only when it changes, and expires with its retention. In memory it holds
/// the records; stored, it is the head of the history (<see cref="Start"/>, <see cref="End"/>,
/// <see cref="SegmentSize"/>) and the records live in <see cref="HistorySegment"/>s. The first
/// format (<see cref="SegmentSize"/> 0) stored the records here, and still loads.
/// </summary>
[GenerateSerializer, Alias("ShieldCluster.ClientHistory")]
public sealed class ClientHistory
{
    /// <summary>Recent served requests, oldest first, bounded in items and in age (empty in a stored head of the segmented format).</summary>
    [Id(0)] public List<QueryRecord> Records { get; set; } = [];

    /// <summary>The sequence number of <see cref="Records"/>' first record (records are numbered from 0 as they arrive).</summary>
    [Id(1)] public long Start { get; set; }

    /// <summary>In a stored head: the sequence number after the last record its segments hold (unused in memory and in the first format).</summary>
    [Id(2)] public long End { get; set; }

    /// <summary>In a stored head: the records per <see cref="HistorySegment"/>; 0 in the first format, whose records are in <see cref="Records"/>.</summary>
    [Id(3)] public int SegmentSize { get; set; }

    /// <summary>In a stored head: the activation that wrote it (as <see cref="ClientState.Writer"/>).</summary>
    [Id(4)] public Guid Writer { get; set; }
}
