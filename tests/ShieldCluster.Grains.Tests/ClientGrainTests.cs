using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Tests;

[Collection(ClusterCollection.Name)]
public class ClientGrainTests(ClusterFixture fixture)
{
    private async Task<IClientGrain> NewClientAsync(string plan = ClusterFixture.TinyPlan)
    {
        var id = "c-" + Guid.NewGuid().ToString("N")[..12];
        var grain = fixture.Grains.GetGrain<IClientGrain>(id);
        Assert.True(await grain.RegisterAsync(new ClientProfile(plan, null, ClientSource.AdminApi, ClusterFixture.Time.GetUtcNow())));
        return grain;
    }

    [Fact]
    public async Task AdmitAsync_BurstSpent_RefusesWithRetryAfterUntilRefilled()
    {
        var client = await NewClientAsync();
        for (var i = 0; i < 3; i++)
        {
            var admitted = await client.AdmitAsync(1);
            Assert.True(admitted.Admitted, $"request {i + 1} of a burst of 3 was refused");
            Assert.Equal(3, admitted.Limit);
            Assert.Equal(2 - i, admitted.Remaining);
        }

        var refused = await client.AdmitAsync(1);
        Assert.Equal(AdmissionDecision.RateLimited, refused.Decision);
        Assert.Equal(1, refused.RetryAfterSeconds);

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await client.AdmitAsync(1)).Admitted);
        Assert.Equal(AdmissionDecision.RateLimited, (await client.AdmitAsync(1)).Decision);
    }

    [Fact]
    public async Task AdmitAsync_DailyQuotaCountsItems_RefusesUntilUtcMidnight()
    {
        var client = await NewClientAsync();
        Assert.True((await client.AdmitAsync(8)).Admitted);
        var over = await client.AdmitAsync(3);
        Assert.Equal(AdmissionDecision.QuotaExceeded, over.Decision);
        var now = ClusterFixture.Time.GetUtcNow();
        var untilMidnight = (int)Math.Ceiling((now.Date.AddDays(1) - now.UtcDateTime).TotalSeconds);
        Assert.Equal(untilMidnight, over.RetryAfterSeconds);
        Assert.True((await client.AdmitAsync(2)).Admitted);
        Assert.Equal(AdmissionDecision.QuotaExceeded, (await client.AdmitAsync(1)).Decision);

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(untilMidnight));
        Assert.True((await client.AdmitAsync(10)).Admitted);
        var report = await client.GetReportAsync();
        Assert.Equal(10, report!.Usage.ItemsToday);
        Assert.Equal(20, report.Usage.TotalItems);
        Assert.Equal(2, report.Usage.RefusedRequests);
    }

    [Fact]
    public async Task AdmitAsync_QuotaRefusal_DoesNotSpendAToken()
    {
        var client = await NewClientAsync();
        Assert.Equal(AdmissionDecision.QuotaExceeded, (await client.AdmitAsync(11)).Decision);
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await client.AdmitAsync(1)).Admitted);
        }
    }

    [Fact]
    public async Task State_SurvivesDeactivation()
    {
        var client = await NewClientAsync();
        await client.AdmitAsync(2);
        await client.AdmitAsync(3);
        await client.RecordAsync(Record(1));
        Assert.Equal(1, (await client.WaitForReportAsync(r => r.HistoryItems == 1)).HistoryItems);

        await fixture.Cluster.DeactivateAsync(client.GetGrainId());

        var report = await client.GetReportAsync();
        Assert.NotNull(report);
        Assert.Equal(ClusterFixture.TinyPlan, report.Profile.Plan);
        Assert.Equal(2, report.Usage.TotalRequests);
        Assert.Equal(5, report.Usage.ItemsToday);
        Assert.Equal(1, report.HistoryItems);
        // The bucket survived too: one token left of three.
        Assert.True((await client.AdmitAsync(1)).Admitted);
        Assert.Equal(AdmissionDecision.RateLimited, (await client.AdmitAsync(1)).Decision);
    }

    [Fact]
    public async Task RecordAsync_BeyondCapacity_KeepsTheNewestItems()
    {
        var client = await NewClientAsync();
        for (var i = 0; i < 120; i++)
        {
            await client.RecordAsync(Record(2));
        }

        var report = await client.WaitForReportAsync(r => r.HistoryItems == ClusterFixture.HistoryCapacity);
        Assert.Equal(ClusterFixture.HistoryCapacity, report.HistoryItems);
    }

    [Fact]
    public async Task RegisterAsync_TakenId_ReturnsFalse()
    {
        var client = await NewClientAsync();
        Assert.False(await client.RegisterAsync(new ClientProfile("standard", null, ClientSource.AdminApi, ClusterFixture.Time.GetUtcNow())));
        Assert.Equal(ClusterFixture.TinyPlan, (await client.GetProfileAsync())!.Plan);
    }

    [Fact]
    public async Task RegisterAsync_ConfiguredId_ReturnsFalse()
    {
        var configured = fixture.Grains.GetGrain<IClientGrain>("configured");
        Assert.False(await configured.RegisterAsync(new ClientProfile("standard", null, ClientSource.AdminApi, ClusterFixture.Time.GetUtcNow())));
        var profile = await configured.GetProfileAsync();
        Assert.Equal(ClientSource.Configuration, profile!.Source);
        Assert.Equal(["fashion-mnist"], profile.Models);
    }

    [Fact]
    public async Task AdmitAsync_UnknownClient_IsRefused()
    {
        var stranger = fixture.Grains.GetGrain<IClientGrain>("never-registered");
        Assert.Equal(AdmissionDecision.UnknownClient, (await stranger.AdmitAsync(1)).Decision);
        Assert.Null(await stranger.GetReportAsync());
    }

    [Fact]
    public async Task AdmitAsync_PlanRemovedFromConfiguration_FailsClosed()
    {
        var client = await NewClientAsync(plan: "retired-plan");
        Assert.Equal(AdmissionDecision.Blocked, (await client.AdmitAsync(1)).Decision);
    }

    [Fact]
    public async Task History_OlderThanRetention_IsDropped()
    {
        var client = await NewClientAsync();
        var now = ClusterFixture.Time.GetUtcNow();
        await client.RecordAsync(Record(3) with { At = now - ClusterFixture.HistoryRetention - TimeSpan.FromMinutes(1) });
        await client.RecordAsync(Record(2) with { At = now - ClusterFixture.HistoryRetention + TimeSpan.FromMinutes(1) });

        // The next write drops what aged out, and the reactivated grain does not bring it back.
        Assert.Equal(2, (await client.WaitForReportAsync(r => r.HistoryItems == 2)).HistoryItems);
        await fixture.Cluster.DeactivateAsync(client.GetGrainId());
        Assert.Equal(2, (await client.GetReportAsync())!.HistoryItems);
    }

    private static QueryRecord Record(int items) => new(
        ClusterFixture.Time.GetUtcNow(),
        "fashion-mnist",
        "1",
        [.. Enumerable.Range(0, items).Select(i => new QueryItem((ulong)i, i % 10, 0.9f, new byte[49]))]);
}
