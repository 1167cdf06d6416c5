namespace ShieldCluster.Contracts;

/// <summary>
/// The peers of one plan (keyed by the plan's name): each client grain of the plan reports its novel
/// inputs today at most every <c>Shield:Detection:PeerReportInterval</c>, off its admission path, and
/// hears back the other clients' median and 90th percentile, against which the extraction detector
/// judges it. Bounded: at most <c>Shield:Detection:PeerCapacity</c> clients a day; in memory only
/// (a reactivated grain is filled again by the next reports).
/// </summary>
[Alias("ShieldCluster.IPlanPeersGrain")]
public interface IPlanPeersGrain : IGrainWithStringKey
{
    /// <summary>Records a client's latest count for its day and answers its peers' statistics for that day.</summary>
    [Alias("ReportAsync")]
    Task<PeerStandings> ReportAsync(PeerReport report);
}

/// <summary>A client's extraction volume, as it reports it to its plan's peers.</summary>
/// <param name="ClientId">The client.</param>
/// <param name="DayNumber">The UTC day counted, as <see cref="DateOnly.DayNumber"/>.</param>
/// <param name="NovelToday">Novel (non-retry) inputs served that day.</param>
/// <param name="Coverage">The class coverage of that day's answers, in [0, 1].</param>
[GenerateSerializer, Immutable, Alias("ShieldCluster.PeerReport")]
public sealed record PeerReport(
    [property: Id(0)] string ClientId,
    [property: Id(1)] int DayNumber,
    [property: Id(2)] long NovelToday,
    [property: Id(3)] double Coverage);

/// <summary>What the other clients of a plan did on a day.</summary>
/// <param name="DayNumber">The UTC day, as <see cref="DateOnly.DayNumber"/>.</param>
/// <param name="Peers">Other clients that reported that day.</param>
/// <param name="MedianNovel">Their median novel inputs.</param>
/// <param name="P90Novel">Their 90th percentile of novel inputs.</param>
/// <param name="MedianCoverage">Their median class coverage.</param>
[GenerateSerializer, Immutable, Alias("ShieldCluster.PeerStandings")]
public sealed record PeerStandings(
    [property: Id(0)] int DayNumber,
    [property: Id(1)] int Peers,
    [property: Id(2)] double MedianNovel,
    [property: Id(3)] double P90Novel,
    [property: Id(4)] double MedianCoverage);
