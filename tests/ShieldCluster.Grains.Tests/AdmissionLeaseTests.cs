using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// Admission leases at the client grain: who gets one, how big, that it comes out of the bucket and
/// the quota and that what is unused goes back, and that leased records reach the history.
/// </summary>
[Collection(ClusterCollection.Name)]
public class AdmissionLeaseTests(ClusterFixture fixture)
{
    private static readonly AdmissionRenewal One = new(1, null, []);

    private async Task<IClientGrain> NewClientAsync(string plan = ClusterFixture.FastPlan)
    {
        var id = "lease-" + Guid.NewGuid().ToString("N")[..12];
        var grain = fixture.Grains.GetGrain<IClientGrain>(id);
        Assert.True(await grain.RegisterAsync(new ClientProfile(plan, null, ClientSource.AdminApi, ClusterFixture.Time.GetUtcNow())));
        return grain;
    }

    /// <summary>Sends <paramref name="requests"/> renewals at one instant of the fake clock, then moves it on by <paramref name="over"/>: the client's rate is requests / over.</summary>
    private static async Task SendAsync(IClientGrain client, int requests, TimeSpan over)
    {
        for (var i = 0; i < requests; i++)
        {
            var admission = await client.RenewAsync(One);
            Assert.True(admission.Admitted);
            Assert.Null(admission.Lease);
        }

        ClusterFixture.Time.Advance(over);
    }

    [Fact]
    public async Task RenewAsync_FastClientPastWarmup_LeaseTakenFromBucketAndQuota_UnusedGivenBack()
    {
        var client = await NewClientAsync();
        // 300 requests in one second: past the squeezing warm-up (256), at 300 per second.
        await SendAsync(client, 300, TimeSpan.FromSeconds(1));

        var admission = await client.RenewAsync(One);
        Assert.True(admission.Admitted);
        // Twice what 300/s sends in 100 ms: 60 requests of 1 item.
        Assert.Equal(new AdmissionLease(60, 60, 100), admission.Lease);
        // The bucket: 10,000 - 300, refilled to 10,000 over the second, less this request and the lease.
        Assert.Equal(10_000 - 1 - 60, admission.Remaining);
        var report = (await client.GetReportAsync())!;
        Assert.Equal(361, report.Usage.TotalRequests);
        Assert.Equal(361, report.Usage.ItemsToday);

        // The front end used 20 of the 60 and gives 40 back.
        await client.RecordLeasedAsync([], 40, 40);
        report = await client.WaitForReportAsync(r => r.Usage.TotalRequests == 321);
        Assert.Equal(321, report.Usage.TotalRequests);
        Assert.Equal(321, report.Usage.ItemsToday);
        // The bucket got the 40 back: 10,000 less the leased request, the 20 used, and this one.
        Assert.Equal(10_000 - 1 - 20 - 1, (await client.AdmitAsync(1)).Remaining);
    }

    [Fact]
    public async Task RenewAsync_SlowClient_NoLease()
    {
        var client = await NewClientAsync();
        // 300 requests over 10 seconds: 30 per second, under the 100 a lease needs.
        await SendAsync(client, 300, TimeSpan.FromSeconds(10));
        Assert.Null((await client.RenewAsync(One)).Lease);
    }

    [Fact]
    public async Task RenewAsync_NewClient_NoLeaseDuringSqueezingWarmup()
    {
        var client = await NewClientAsync();
        // Fast (200 per second) but only 200 requests old: every request is still squeezed.
        await SendAsync(client, 200, TimeSpan.FromSeconds(1));
        Assert.Null((await client.RenewAsync(One)).Lease);
    }

    [Fact]
    public async Task RenewAsync_BlockedClient_RefusedWithoutLease()
    {
        var client = await NewClientAsync();
        await SendAsync(client, 300, TimeSpan.FromSeconds(1));
        Assert.True(await client.BlockAsync("test", null, "sec"));
        var admission = await client.RenewAsync(One);
        Assert.Equal(AdmissionDecision.Blocked, admission.Decision);
        Assert.Null(admission.Lease);
    }

    [Fact]
    public async Task RenewAsync_LeaseNeverExceedsTheBucket()
    {
        var client = await NewClientAsync(ClusterFixture.ShallowBucketPlan);
        // 400 per second for a second, in ten bursts of the whole bucket (40, refilled every 100 ms).
        for (var burst = 0; burst < 10; burst++)
        {
            await SendAsync(client, 40, TimeSpan.FromMilliseconds(100));
        }

        var admission = await client.RenewAsync(One);
        // 400/s would lease 80 (capped at 64), but the refilled bucket holds 40: this request's token, and 39.
        Assert.Equal(39, admission.Lease!.Requests);
        Assert.Equal(0, admission.Remaining);
        Assert.Equal(AdmissionDecision.RateLimited, (await client.RenewAsync(One)).Decision);
    }

    [Fact]
    public async Task RenewAsync_LeaseCappedAtLeaseMaxRequests()
    {
        var client = await NewClientAsync();
        await SendAsync(client, 2_000, TimeSpan.FromSeconds(1));
        // 2,000 per second would be 400 in two lease times: capped at LeaseMaxRequests (64).
        Assert.Equal(64, (await client.RenewAsync(One)).Lease!.Requests);
    }

    [Fact]
    public async Task RenewAsync_CarriedRecords_ReachHistoryBeforeTheAdmission()
    {
        var client = await NewClientAsync();
        var admission = await client.RenewAsync(new AdmissionRenewal(1, null, [Record(3, 0), Record(2, 100)]));
        Assert.True(admission.Admitted);
        // The call returns after the records were observed: no waiting.
        var report = (await client.GetReportAsync())!;
        Assert.Equal(5, report.HistoryItems);

        await client.RecordLeasedAsync([Record(4, 200)], 0, 0);
        Assert.Equal(9, (await client.WaitForReportAsync(r => r.HistoryItems == 9)).HistoryItems);
    }

    private static QueryRecord Record(int items, int firstDigest) => new(
        ClusterFixture.Time.GetUtcNow(),
        "fashion-mnist",
        "1",
        [.. Enumerable.Range(firstDigest, items).Select(i => new QueryItem((ulong)i, i % 10, 0.9f, new byte[49]))]);
}
