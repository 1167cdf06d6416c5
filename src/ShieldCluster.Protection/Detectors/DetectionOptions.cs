namespace ShieldCluster.Protection.Detectors;

/// <summary>Parameters of the per-client stateful detectors.</summary>
public sealed class DetectionOptions
{
    /// <summary>PRADA (synthetic extraction).</summary>
    public PradaOptions Prada { get; set; } = new();

    /// <summary>Blacklight (query-based evasion).</summary>
    public BlacklightOptions Blacklight { get; set; } = new();

    /// <summary>The line-search (boundary-walk) detector (query-based, decision-based evasion).</summary>
    public LineSearchOptions LineSearch { get; set; } = new();

    /// <summary>
    /// Inputs closer than this RMS difference (on the 0-255 scale) to one of the client's last
    /// <see cref="NearDuplicateMemory"/> inputs are near-duplicates (re-encodings, tiny edits): PRADA
    /// and the squeezing count skip them as they skip retries; Blacklight still sees them. Default 4.
    /// </summary>
    public double NearDuplicateRms { get; set; } = 4;

    /// <summary>Recent inputs compared for near-duplicates. Default 64.</summary>
    public int NearDuplicateMemory { get; set; } = 64;

    /// <summary>Recent digests remembered to recognise retries. Default 1,000.</summary>
    public int RetryMemory { get; set; } = 1_000;

    /// <summary>
    /// Newest non-retry queries over which Blacklight's own-history matches are counted. Default 10:
    /// an attack's queries match one after another, an honest client's edits of its own pictures
    /// now and then, so a short window separates them.
    /// </summary>
    public int BlacklightWindow { get; set; } = 10;

    /// <summary>
    /// Blacklight alarms when at least this many queries of its window matched an earlier one of the
    /// same client. Default 3 (3 of the last 10): 3 of the last 100 blocked honest clients that
    /// re-send edits of their own pictures (the full-scale evaluation's 50 x 1,000 queries).
    /// </summary>
    public int BlacklightAlarmMatches { get; set; } = 3;

    /// <summary>Newest items over which cross-client matches are counted. Default 100.</summary>
    public int CrossClientWindow { get; set; } = 100;

    /// <summary>
    /// The cluster-wide index alarms when at least this many of the client's last
    /// <see cref="CrossClientWindow"/> items matched other clients' queries. Default 10: honest clients
    /// re-encode popular images that others send too (the full-scale honest evaluation saw 3 such
    /// matches in 100 queries), while every query of an attack spread over many keys matches.
    /// </summary>
    public int CrossClientAlarmMatches { get; set; } = 10;

    /// <summary>
    /// A cross-client match to content that this many or more other clients sent (a popular image and
    /// its re-encodings) is not evidence. Default 8: an attack spread over fewer keys is caught; one
    /// spread over more leaves each key few enough queries for its own detectors to judge.
    /// </summary>
    public int PopularClients { get; set; } = 8;

    /// <summary>Shards of the cluster-wide Blacklight index. Default 4.</summary>
    public int CrossClientShards { get; set; } = 4;

    /// <summary>
    /// Postings (query, hash) one shard keeps, oldest evicted first. Default 250,000: with 4 shards and
    /// 25 hashes per query, the index spans the cluster's last ~40,000 queries in about 42 MB (10.5 MB a
    /// shard on Fashion-MNIST queries).
    /// </summary>
    public int CrossClientShardCapacity { get; set; } = 250_000;

    /// <summary>
    /// Served requests one silo queues for the cluster-wide check, which runs in batches off the
    /// response path. Default 16,384; beyond it new requests skip the cross-client check (counted in
    /// <c>shield_crossclient_skipped_total</c>) while every client's own detectors still see them.
    /// </summary>
    public int CrossClientQueue { get; set; } = 16_384;

    /// <summary>
    /// How long the cluster-wide check waits for more requests when it wakes to fewer than a batch's
    /// worth (a light load), before it checks them: a batch costs one call per shard however many
    /// items it holds. Default 5 ms (at most 1 s; zero checks whatever is queued at once). It adds at
    /// most this much to the lag of cross-client evidence, which the lease flush (20 ms) exceeds anyway.
    /// </summary>
    public TimeSpan CrossClientGatherDelay { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The most recent queries one hash keeps in a shard of the cluster-wide index: a hash shared by
    /// more recent queries is a common pattern, and a longer list costs every lookup. Default 64: at 16
    /// the red team's full-scale JbDA (seed 7) lost the cross-client evidence that blocks it at query
    /// 921 and ran to 1,265, where feature squeezing stopped it.
    /// </summary>
    public int CrossClientPostingsPerHash { get; set; } = HashPostings<string>.DefaultMaxPerHash;

    /// <summary>Newest squeezed queries over which feature-squeezing flags are counted. Default 50.</summary>
    public int SqueezeWindow { get; set; } = 50;

    /// <summary>
    /// Feature squeezing alarms when at least this many queries of its window were flagged. Default
    /// 15: at the calibrated 4.5% false-positive rate an honest client expects 2.3 of 50, but flags
    /// cluster (edits of a flagged picture are flagged too): one honest client of 50 reached 10.
    /// </summary>
    public int SqueezeAlarmFlags { get; set; } = 15;

    /// <summary>Newest non-retry queries over which line-search hits are counted. Default 10.</summary>
    public int LineSearchWindow { get; set; } = 10;

    /// <summary>
    /// The line-search detector alarms when at least this many queries of its window lay on a line
    /// through two earlier, different inputs of the client; fewer (but at least one) degrade. Default
    /// 2: every step of HopSkipJump's first binary search is a hit (200 simulated walks on Fashion-MNIST
    /// training images, and the red team's), while 50 simulated honest clients x 1,000 queries and the
    /// full-scale evaluation's honest clients had none, even at three times the residual tolerance.
    /// </summary>
    public int LineSearchAlarmHits { get; set; } = 2;

    /// <summary>
    /// How often a client grain reports its novel inputs today (and class coverage) to its plan's peer
    /// grain, which answers with the peers' median and 90th percentile; the call is made off the
    /// admission path, at most once per interval and one at a time. Default 10 seconds; zero: after
    /// every recorded request (tests).
    /// </summary>
    public TimeSpan PeerReportInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Clients one plan's peer grain keeps per UTC day (about 30 bytes each); later clients of the day
    /// are compared against them without being added. Default 100,000.
    /// </summary>
    public int PeerCapacity { get; set; } = 100_000;
}
