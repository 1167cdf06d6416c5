using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Risk;

namespace ShieldCluster.Grains.Risk;

/// <summary>
/// One plan's peers (keyed by the plan's name): the latest novel-today count of each of its clients,
/// in memory and bounded (<see cref="PeerVolumes"/>), answering each report with the other clients'
/// median and 90th percentile. Nothing is stored: active clients report again within
/// <see cref="DetectionOptions.PeerReportInterval"/>, so a reactivated grain fills up again at once.
/// </summary>
public sealed class PlanPeersGrain(IOptions<DetectionOptions> detection) : Grain, IPlanPeersGrain
{
    private readonly PeerVolumes _volumes = new(detection.Value.PeerCapacity);

    /// <inheritdoc />
    public Task<PeerStandings> ReportAsync(PeerReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var peers = _volumes.Report(report.ClientId, report.DayNumber, report.NovelToday, report.Coverage);
        return Task.FromResult(new PeerStandings(peers.DayNumber, peers.Peers, peers.MedianNovel, peers.P90Novel, peers.MedianCoverage));
    }
}
