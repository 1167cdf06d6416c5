using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
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

    public sealed class Factory : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            ["Shield:Clients:speedy:ApiKeySha256"] = ApiKeys.Hash(SpeedyKey),
            ["Shield:Clients:speedy:Plan"] = "unlimited",
        };
    }

    private HttpClient Security => server.ClientWithKey(ShieldServerFactory.SecurityAdminKey);

    private double Leased => server.Services.GetRequiredService<ShieldMetrics>().Admissions.WithLabels("lease").Value;

    [Fact]
    public async Task FastClient_AdmittedUnderLeases_EveryRequestReachesHistoryAndUsage_BlockEndsLeaseAtOnce()
    {
        var speedy = server.ClientWithKey(SpeedyKey);
        // 300 requests in one second of the product's (fake) clock: past the squeezing warm-up, at 300/s.
        for (var i = 0; i < 300; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(speedy, Json(i, 1))).StatusCode);
        }

        Assert.Equal(0, Leased);
        server.Time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 300; i < 400; i++)
        {
            var response = await PostAsync(speedy, Json(i, 1));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.Contains("RateLimit-Remaining"), "a leased answer still carries the rate-limit headers");
        }

        // Leases of 60 (twice 300/s over 100 ms): most of the 100 were admitted here.
        Assert.InRange(Leased, 50, 99);

        // Every request's record reaches the history (by renewal or flush), and the unused part of
        // the last lease goes back: usage counts exactly the 400 served.
        JsonObject? report = null;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            report = await Security.GetFromJsonAsync<JsonObject>("/admin/clients/speedy");
            if ((int)report!["historyItems"]! == 400 && (long)report["usage"]!["totalRequests"]! == 400)
            {
                break;
            }

            await Task.Delay(20);
        }

        Assert.Equal(400, (int)report!["historyItems"]!);
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
}
