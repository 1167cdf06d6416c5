using ShieldCluster.Contracts;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Features;
using ShieldCluster.Testing;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// The extraction detector against a plan's peers, through real grains: client grains report their
/// novel inputs today to the plan's peer grain off the admission path and are judged against the
/// other clients' 90th percentile once enough of them reported.
/// </summary>
[Collection(ClusterCollection.Name)]
public class PeerComparisonTests(ClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly BlacklightFingerprinter Fingerprinter = new(new BlacklightOptions(), new byte[32], 784);
    private static readonly QueryFeatureExtractor Extractor = new([1, 28, 28], 0f, 1f);

    private async Task<IClientGrain> NewClientAsync(string plan, string prefix)
    {
        var grain = fixture.Grains.GetGrain<IClientGrain>(prefix + "-" + Guid.NewGuid().ToString("N")[..12]);
        Assert.True(await grain.RegisterAsync(new ClientProfile(plan, null, ClientSource.AdminApi, ClusterFixture.Time.GetUtcNow())));
        return grain;
    }

    private static QueryRecord Record(int index)
    {
        var image = FashionMnist.TestImage(index);
        var features = Extractor.Extract(image);
        var item = new QueryItem(features.Digest, FashionMnist.TestSet.Labels[index], 0.9f, features.Thumbnail, Fingerprinter.Fingerprint(image, 0, 1));
        return new QueryRecord(ClusterFixture.Time.GetUtcNow(), "fashion-mnist", "1", [item]);
    }

    /// <summary>Sends <paramref name="count"/> distinct test images from <paramref name="first"/> on, one request each, and returns the enforcement after each.</summary>
    private static async Task<List<EnforcementState>> SendAsync(IClientGrain client, int first, int count, int historyBefore = 0)
    {
        var seen = new List<EnforcementState>(count);
        for (var i = 0; i < count; i++)
        {
            await client.RecordAsync(Record(first + i));
            var expected = Math.Min(historyBefore + i + 1, ClusterFixture.HistoryCapacity);
            seen.Add((await client.WaitForReportAsync(r => r.HistoryItems == expected)).Risk.Enforcement);
        }

        return seen;
    }

    [Fact]
    public async Task ClientFarAboveTenHonestPeers_IsDegradedWellBeforeItsBudget_PeersStayOk()
    {
        var peers = new List<IClientGrain>();
        for (var p = 0; p < 10; p++)
        {
            var peer = await NewClientAsync(ClusterFixture.PeersPlan, "peer");
            // Honest peers of different weights: 25 to 34 novel images each.
            Assert.All(await SendAsync(peer, 1_000 + (p * 100), 25 + p), e => Assert.Equal(EnforcementState.Ok, e));
            peers.Add(peer);
        }

        var stealer = await NewClientAsync(ClusterFixture.PeersPlan, "stealer");
        var seen = await SendAsync(stealer, 5_000, 160);
        var firstDegraded = seen.IndexOf(EnforcementState.Degraded) + 1;
        var report = (await stealer.GetReportAsync())!;
        var evidence = report.Risk.Detectors.Single(d => d.Detector == "extraction").Evidence;
        output.WriteLine($"degraded at novel input {firstDegraded} of 160; {evidence}");

        // The peers' p90 is about 33 novel inputs: 3x that degrades, near 100 (the budget is 400).
        Assert.True(firstDegraded is > 60 and < 130, $"degraded at novel input {firstDegraded}: {evidence}");
        Assert.True(firstDegraded < ClusterFixture.PeersPlanBudget / 2);
        Assert.Equal(EnforcementState.Degraded, report.Risk.Enforcement);
        Assert.Contains("peers: 10 other clients of the plan today", evidence, StringComparison.Ordinal);
        Assert.Contains("x max(p90, floor 10)", evidence, StringComparison.Ordinal);
        Assert.Contains("entropy", evidence, StringComparison.Ordinal);
        var step = report.Risk.Events.Single(e => e.Kind == "enforcement" && e.To == EnforcementState.Degraded);
        Assert.Contains("peers: 10 other clients", step.Reason, StringComparison.Ordinal);

        // The peers, now judged with the stealer among them, stay ok as they go on within the usual spread.
        for (var p = 0; p < peers.Count; p++)
        {
            var more = await SendAsync(peers[p], 1_000 + (p * 100) + 25 + p, 5, historyBefore: 25 + p);
            Assert.All(more, e => Assert.Equal(EnforcementState.Ok, e));
            var peerReport = (await peers[p].GetReportAsync())!;
            Assert.True(peerReport.Risk.Score < 0.4, $"peer {p}: {peerReport.Risk.Detectors.Single(d => d.Detector == "extraction").Evidence}");
        }
    }

    [Fact]
    public async Task FewerPeersThanTheMinimum_TheBudgetAloneCounts()
    {
        for (var p = 0; p < 3; p++)
        {
            var peer = await NewClientAsync(ClusterFixture.FewPeersPlan, "few");
            await SendAsync(peer, 2_000 + (p * 100), 30);
        }

        var heavy = await NewClientAsync(ClusterFixture.FewPeersPlan, "heavy");
        var seen = await SendAsync(heavy, 6_000, 160);
        Assert.All(seen, e => Assert.Equal(EnforcementState.Ok, e));
        var report = (await heavy.GetReportAsync())!;
        var extraction = report.Risk.Detectors.Single(d => d.Detector == "extraction");
        output.WriteLine(extraction.Evidence);
        Assert.True(extraction.Score < 0.4 * 0.9 * 160 / ClusterFixture.PeersPlanBudget + 1e-9, extraction.Evidence);
        Assert.Contains("peers: 3 other clients of the plan today", extraction.Evidence, StringComparison.Ordinal);
        Assert.Contains("fewer than the 5 compared: the budget alone counts", extraction.Evidence, StringComparison.Ordinal);
    }
}
