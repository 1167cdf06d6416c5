using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ShieldCluster.Contracts;
using ShieldCluster.Server.Identity;
using ShieldCluster.Server.Serving;
using ShieldCluster.Server.Telemetry;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// Admission leases through the real HTTP API: a fast client in good standing is admitted by the
/// front end itself, every one of its requests still reaches its history and usage, and a block
/// ends this silo's lease at once.
/// </summary>
public class AdmissionLeaseApiTests(AdmissionLeaseApiTests.Factory server) : IClassFixture<AdmissionLeaseApiTests.Factory>
{
    private const string SpeedyKey = "speedy-key-for-tests";
    private const string SteadyKey = "steady-key-for-tests";
    private const string TurnedKey = "turned-key-for-tests";

    public sealed class Factory : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            ["Shield:Clients:speedy:ApiKeySha256"] = ApiKeys.Hash(SpeedyKey),
            ["Shield:Clients:speedy:Plan"] = "unlimited",
            ["Shield:Clients:steady:ApiKeySha256"] = ApiKeys.Hash(SteadyKey),
            ["Shield:Clients:steady:Plan"] = "unlimited",
            ["Shield:Clients:turned:ApiKeySha256"] = ApiKeys.Hash(TurnedKey),
            ["Shield:Clients:turned:Plan"] = "unlimited",
            // Leases that the requests spend (64, LeaseMaxRequests) long before their time ends,
            // so that a renewal ahead has the second half of a lease's requests to come back in,
            // however slow the machine.
            ["Shield:Protection:AdmissionLease"] = "00:00:02",
            // No squeezing: a sampled squeeze that flags a test image now and then would put a
            // client on squeezing every request, which ends its leases (at random, for these tests).
            ["Shield:Protection:Squeezing"] = "Never",
        };
    }

    private HttpClient Security => server.ClientWithKey(ShieldServerFactory.SecurityAdminKey);

    private ShieldMetrics Metrics => server.Services.GetRequiredService<ShieldMetrics>();

    private double Leased => Metrics.Admissions.WithLabels("lease").Value;

    private double AskedTheGrain => Metrics.Admissions.WithLabels("grain").Value;

    /// <summary>
    /// 300 requests in one second of the product's (fake) clock (past the squeezing warm-up, at
    /// 300/s; none under a lease yet), then the clock on by a second: the client now earns leases
    /// of 64 (<c>LeaseMaxRequests</c>).
    /// </summary>
    private async Task<HttpClient> WarmAsync(string key, int firstValue)
    {
        var client = server.ClientWithKey(key);
        var leasedAtStart = Leased;
        for (var i = 0; i < 300; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(firstValue + i, 1))).StatusCode);
        }

        Assert.Equal(leasedAtStart, Leased);
        server.Time.Advance(TimeSpan.FromSeconds(1));
        return client;
    }

    private async Task<JsonObject> ReportWhenAsync(string clientId, Func<JsonObject, bool> done)
    {
        JsonObject? report = null;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            report = await Security.GetFromJsonAsync<JsonObject>($"/admin/clients/{clientId}");
            if (done(report!))
            {
                break;
            }

            await Task.Delay(20);
        }

        return report!;
    }

    [Fact]
    public async Task FastClient_AdmittedUnderLeases_EveryRequestReachesHistoryAndUsage_BlockEndsLeaseAtOnce()
    {
        var speedy = await WarmAsync(SpeedyKey, 0);
        var leasedAtStart = Leased;
        for (var i = 300; i < 400; i++)
        {
            var response = await PostAsync(speedy, Json(i, 1));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.Contains("RateLimit-Remaining"), "a leased answer still carries the rate-limit headers");
        }

        // Leases of 64 (LeaseMaxRequests): most of the 100 were admitted here.
        Assert.InRange(Leased - leasedAtStart, 50, 99);

        // Every request's record reaches the history (by renewal or flush), and the unused part of
        // the last lease goes back: usage counts exactly the 400 served.
        var report = await ReportWhenAsync("speedy", r => (int)r["historyItems"]! == 400 && (long)r["usage"]!["totalRequests"]! == 400);
        Assert.Equal(400, (int)report["historyItems"]!);
        Assert.Equal(400, (long)report["usage"]!["totalRequests"]!);
        Assert.Equal(400, (long)report["usage"]!["itemsToday"]!);

        // A fresh lease, then a block: the very next request is refused on this silo.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(speedy, Json(400, 1))).StatusCode);
        var leasedBefore = Leased;
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(speedy, Json(401, 1))).StatusCode);
        Assert.Equal(leasedBefore + 1, Leased);
        Assert.Equal(HttpStatusCode.OK, (await Security.PostAsJsonAsync("/admin/clients/speedy/block", new { reason = "lease test" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(speedy, Json(402, 1))).StatusCode);
        Assert.Equal(0, server.Services.GetRequiredService<AdmissionLeases>().Count);
    }

    [Fact]
    public async Task SteadyClient_LeaseRenewedAheadInTheBackground_NoRequestWaitsForTheGrain_UsageExact()
    {
        var steady = await WarmAsync(SteadyKey, 1_000);
        var (asked, renewed) = (AskedTheGrain, Metrics.LeaseRenewals.WithLabels("renewed").Value);

        // 300 requests: nearly five leases' worth of 64. Without renewals ahead, each lease's end
        // sent a request to the grain (and made it wait for the grain's detectors); now only the
        // first asks, and each lease is renewed while half of it is left. The client pauses while a
        // renewal is out: on a busy machine (the other tests) a renewal may take longer than the
        // requests the lease has left, and this test is about what is asked, not how fast.
        var leases = server.Services.GetRequiredService<AdmissionLeases>();
        for (var i = 0; i < 300; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(steady, Json(1_300 + i, 1))).StatusCode);
            for (var wait = 0; leases.RenewalsInFlight > 0 && wait < 500; wait++)
            {
                await Task.Delay(10);
            }
        }

        Assert.True(AskedTheGrain - asked == 1, $"asked the grain {AskedTheGrain - asked} times; renewals ahead: {Metrics.LeaseRenewals.WithLabels("renewed").Value - renewed} renewed, {Metrics.LeaseRenewals.WithLabels("ended").Value} ended, {Metrics.LeaseRenewals.WithLabels("failed").Value} failed");
        Assert.True(Metrics.LeaseRenewals.WithLabels("renewed").Value - renewed >= 4, "the leases were renewed ahead");

        // What each replaced lease had left went back: usage counts exactly the 600 served, and every record reached the history.
        var report = await ReportWhenAsync("steady", r => (long)r["usage"]!["totalRequests"]! == 600 && (int)r["historyItems"]! == 600);
        Assert.Equal(600, (long)report["usage"]!["totalRequests"]!);
        Assert.Equal(600, (long)report["usage"]!["itemsToday"]!);
        Assert.Equal(600, (int)report["historyItems"]!);
    }

    [Fact]
    public async Task RenewalAheadRefused_EndsTheLeaseAtOnce_NextRequestAsksTheGrain()
    {
        var turned = await WarmAsync(TurnedKey, 2_000);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(turned, Json(2_300, 1))).StatusCode);

        // Blocked at its grain, not through the admin API (which would revoke this silo's lease
        // itself): only the grain's answer to a renewal can end the lease here.
        var grains = server.Services.GetRequiredService<IGrainFactory>();
        Assert.True(await grains.GetGrain<IClientGrain>("turned").BlockAsync("renewal test", null, "test"));
        var ended = Metrics.LeaseRenewals.WithLabels("ended").Value;

        // The lease (64) admits until half of it is spent; that admission renews it, the grain
        // refuses, and the lease ends: the request after that is refused, long before the lease
        // would have run out.
        var leases = server.Services.GetRequiredService<AdmissionLeases>();
        var served = 0;
        while (Metrics.LeaseRenewals.WithLabels("ended").Value == ended)
        {
            Assert.True(served < 64, "a renewal was sent before the lease was spent");
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(turned, Json(2_301 + served, 1))).StatusCode);
            served++;
            for (var wait = 0; leases.RenewalsInFlight > 0 && wait < 500; wait++)
            {
                await Task.Delay(10);
            }
        }

        Assert.Equal(32, served);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(turned, Json(2_400, 1))).StatusCode);
    }
}
