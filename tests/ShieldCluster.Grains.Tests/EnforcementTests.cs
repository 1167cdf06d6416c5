using ShieldCluster.Contracts;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Features;
using ShieldCluster.Testing;

namespace ShieldCluster.Grains.Tests;

[Collection(ClusterCollection.Name)]
public class EnforcementTests(ClusterFixture fixture)
{
    private static readonly BlacklightFingerprinter Fingerprinter = new(new BlacklightOptions(), new byte[32], 784);
    private static readonly QueryFeatureExtractor Extractor = new([1, 28, 28], 0f, 1f);

    private async Task<IClientGrain> NewClientAsync(string plan = "standard")
    {
        var grain = fixture.Grains.GetGrain<IClientGrain>("e-" + Guid.NewGuid().ToString("N")[..12]);
        Assert.True(await grain.RegisterAsync(new ClientProfile(plan, null, ClientSource.AdminApi, ClusterFixture.Time.GetUtcNow())));
        return grain;
    }

    private static QueryRecord Record(float[] image, int label)
    {
        var features = Extractor.Extract(image);
        var item = new QueryItem(features.Digest, label, 0.9f, features.Thumbnail, Fingerprinter.Fingerprint(image, 0, 1));
        return new QueryRecord(ClusterFixture.Time.GetUtcNow(), "fashion-mnist", "1", [item]);
    }


    [Fact]
    public async Task RecordAsync_RandomSearchAroundOneImage_BlocksWithEvidence()
    {
        var client = await NewClientAsync();
        var random = new Random(3);
        var image = FashionMnist.TestImage(17);
        for (var i = 0; i < 12; i++)
        {
            image = [.. image.Select(v => Math.Clamp(v + (float)((random.NextDouble() - 0.5) * 0.02), 0f, 1f))];
            await client.RecordAsync(Record(image, 4));
        }

        var report = await client.WaitForReportAsync(r => r.Risk.Enforcement == EnforcementState.Blocked);
        Assert.Equal(EnforcementState.Blocked, report.Risk.Enforcement);
        Assert.Equal(1.0, report.Risk.Score);
        Assert.NotNull(report.Risk.BlockedUntil);
        var step = Assert.Single(report.Risk.Events, e => e.To == EnforcementState.Blocked);
        Assert.Equal("detector", step.Actor);
        Assert.Contains("blacklight", step.Reason, StringComparison.Ordinal);
        Assert.Contains(report.Risk.Detectors, d => d.Detector == "blacklight" && d.Score == 1.0);

        var refused = await client.AdmitAsync(1);
        Assert.Equal(AdmissionDecision.Blocked, refused.Decision);

        var index = fixture.Grains.GetGrain<IRiskIndexGrain>(0);
        IReadOnlyList<RiskEntry> top = [];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!top.Any(e => e.ClientId == client.GetPrimaryKeyString() && e.Enforcement == EnforcementState.Blocked) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
            top = await index.TopAsync(1000);
        }

        Assert.Contains(top, e => e.ClientId == client.GetPrimaryKeyString() && e.Enforcement == EnforcementState.Blocked && e.Risk == 1.0);
    }

    [Fact]
    public async Task RecordAsync_HonestImagesAndRetries_StayOk()
    {
        var client = await NewClientAsync();
        var random = new Random(8);
        for (var i = 0; i < 150; i++)
        {
            var index = random.Next(10_000);
            var record = Record(FashionMnist.TestImage(index), FashionMnist.TestSet.Labels[index]);
            await client.RecordAsync(record);
            if (i % 10 == 0)
            {
                await client.RecordAsync(record with { At = ClusterFixture.Time.GetUtcNow() });
            }
        }

        var report = await client.WaitForReportAsync(r => r.HistoryItems == 165);
        Assert.Equal(165, report.HistoryItems);
        Assert.True(report.Risk.Enforcement == EnforcementState.Ok, string.Join(" | ", report.Risk.Events.Select(e => e.Reason)));
        Assert.True(report.Risk.Score < 0.4, $"risk {report.Risk.Score}");
        Assert.True((await client.AdmitAsync(1)).Admitted);
        Assert.False((await client.AdmitAsync(1)).DegradeOutputs);
    }

    [Fact]
    public async Task BlockAsync_UntilATime_RefusesThenExpires()
    {
        var client = await NewClientAsync();
        Assert.True(await client.BlockAsync("abuse report", ClusterFixture.Time.GetUtcNow().AddMinutes(10), "alice-admin"));
        var blocked = await client.AdmitAsync(1);
        Assert.Equal(AdmissionDecision.Blocked, blocked.Decision);
        Assert.Equal(600, blocked.RetryAfterSeconds);

        await fixture.Cluster.DeactivateAsync(client.GetGrainId());
        Assert.Equal(AdmissionDecision.Blocked, (await client.AdmitAsync(1)).Decision);

        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.True((await client.AdmitAsync(1)).Admitted);
        var report = (await client.GetReportAsync())!;
        Assert.Equal(["block", "block-expired"], report.Risk.Events.Select(e => e.Kind));
        Assert.Equal("alice-admin", report.Risk.Events[0].Actor);
        Assert.Equal("abuse report", report.Risk.Events[0].Reason);
    }

    [Fact]
    public async Task UnblockAsync_AfterDetectorBlock_ResetsRiskKeepsEvidence_AndNewQueriesStartClean()
    {
        var client = await NewClientAsync();
        var random = new Random(4);
        var image = FashionMnist.TestImage(5);
        for (var i = 0; i < 12; i++)
        {
            image = [.. image.Select(v => Math.Clamp(v + (float)((random.NextDouble() - 0.5) * 0.02), 0f, 1f))];
            await client.RecordAsync(Record(image, 2));
        }

        var blocked = await client.WaitForReportAsync(r => r.HistoryItems == 12);
        Assert.Equal(EnforcementState.Blocked, blocked.Risk.Enforcement);
        Assert.True(await client.UnblockAsync("false positive, customer confirmed", "bob-admin"));

        var report = (await client.GetReportAsync())!;
        Assert.Equal(EnforcementState.Ok, report.Risk.Enforcement);
        Assert.Equal(0, report.Risk.Score);
        Assert.Equal(["enforcement", "unblock"], report.Risk.Events.Select(e => e.Kind));
        Assert.True((await client.AdmitAsync(1)).Admitted);

        // The detectors start over, also after a reactivation: old evidence is not replayed.
        await fixture.Cluster.DeactivateAsync(client.GetGrainId());
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        await client.RecordAsync(Record(FashionMnist.TestImage(900), 1));
        report = await client.WaitForReportAsync(r => r.HistoryItems == 13);
        Assert.Equal(EnforcementState.Ok, report.Risk.Enforcement);
        Assert.True(report.Risk.Score < 0.01, $"risk {report.Risk.Score}: only one novel input since the unblock");
    }

    [Fact]
    public async Task RecordAsync_NaturalImagesPastTheExtractionBudget_DegradeThenThrottleThenBlock_RetriesDoNotCount()
    {
        var client = await NewClientAsync(ClusterFixture.SmallBudgetPlan);
        var random = new Random(12);
        var seen = new List<EnforcementState>();
        for (var i = 0; i < 45; i++)
        {
            var index = random.Next(10_000);
            var record = Record(FashionMnist.TestImage(index), FashionMnist.TestSet.Labels[index]);
            await client.RecordAsync(record);
            await client.RecordAsync(record with { At = ClusterFixture.Time.GetUtcNow() });
            seen.Add((await client.WaitForReportAsync(r => r.HistoryItems == Math.Min(2 * (i + 1), ClusterFixture.HistoryCapacity))).Risk.Enforcement);
        }

        // 20 novel inputs degrade, 30 throttle, 40 block; the retries alongside them count for nothing.
        Assert.Equal(EnforcementState.Ok, seen[18]);
        Assert.Equal(EnforcementState.Degraded, seen[19]);
        Assert.Equal(EnforcementState.Throttled, seen[29]);
        Assert.Equal(EnforcementState.Blocked, seen[39]);
        var report = (await client.GetReportAsync())!;
        Assert.Contains(report.Risk.Detectors, d => d.Detector == "extraction" && d.Evidence.StartsWith("45 novel inputs today against a budget of 20", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(ClusterFixture.MisinformPlan, true)]
    [InlineData(ClusterFixture.SmallBudgetPlan, false)]
    public async Task AdmitAsync_BeyondTheExtractionBudget_MisinformsOnlyWhenThePlanSaysSo(string plan, bool misinformBeyond)
    {
        var client = await NewClientAsync(plan);
        var misinformed = new List<bool>();
        for (var i = 0; i < 25; i++)
        {
            misinformed.Add((await client.AdmitAsync(1)).Misinform);
            await client.RecordAsync(Record(FashionMnist.TestImage(i), FashionMnist.TestSet.Labels[i]));
            await client.WaitForReportAsync(r => r.HistoryItems == i + 1);
        }

        // Admission at request n sees the n - 1 novel inputs before it: the budget of 20 is spent from the 21st on.
        Assert.All(misinformed.Take(20), m => Assert.False(m));
        Assert.All(misinformed.Skip(20), m => Assert.Equal(misinformBeyond, m));
    }

    [Fact]
    public async Task BlockAsync_UnknownClient_ReturnsFalse()
    {
        Assert.False(await fixture.Grains.GetGrain<IClientGrain>("ghost-client").BlockAsync("x", null, "a"));
        Assert.False(await fixture.Grains.GetGrain<IClientGrain>("ghost-client").UnblockAsync("x", "a"));
    }
}
