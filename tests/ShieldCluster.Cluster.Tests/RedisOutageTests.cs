using System.Globalization;
using System.Net;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Clients;
using ShieldCluster.Grains.Keys;
using Xunit.Abstractions;

namespace ShieldCluster.Cluster.Tests;

/// <summary>
/// redis-server stopped for 30 seconds under load: silos keep serving and enforcing from memory,
/// a client whose state was never loaded is refused (fail closed), writes are retried and flushed
/// when Redis returns, with no restart.
/// </summary>
public class RedisOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RedisDown30s_ServesAndEnforcesFromMemory_RefusesUnloadedClients_FlushesOnReturn()
    {
        await using var cluster = await SiloCluster.StartAsync(silos: 2);
        var keys = new Dictionary<string, string>();
        for (var i = 0; i < 6; i++)
        {
            keys[$"h{i}"] = await cluster.CreateClientAsync($"h{i}");
        }

        // A client that exists only in Redis (written there, never activated): its state cannot be
        // loaded while Redis is down.
        var coldKey = await SeedColdClientAsync(cluster);

        var load = new LoadGenerator(cluster, keys);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(stop.Token);
        await Wait.UntilAsync(() => keys.Keys.All(c => load.Served(c) >= 10), TimeSpan.FromSeconds(60), "warm-up");

        await cluster.Redis.StopAsync();
        var down = load.Now;
        // Enforcement goes on from memory: an admin block is refused as not durable (503) but holds.
        using (var block = await cluster.AdminAsync(HttpMethod.Post, "/admin/clients/h0/block", new { reason = "during the outage" }))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, block.StatusCode);
        }

        var blockedAt = load.Now;
        foreach (var silo in cluster.Live)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await cluster.InferAsync(silo, coldKey));
        }

        await Wait.UntilAsync(() => load.Now - down >= Outage.TotalSeconds, Outage + TimeSpan.FromSeconds(5), "the outage");
        var during = keys.Keys.Where(c => c != "h0").ToDictionary(c => c, c => load.Outcomes[c].Where(o => o.Sent > down).ToList());
        await cluster.Redis.StartAgainAsync();
        var up = load.Now;

        // Served throughout (from memory) and enforced: h0 was never served after its block.
        foreach (var (client, outcomes) in during)
        {
            Assert.True(outcomes.Count > 10, $"{client}: only {outcomes.Count} requests during the outage");
            Assert.All(outcomes, o => Assert.Equal(HttpStatusCode.OK, o.Status));
        }

        Assert.DoesNotContain(load.Outcomes["h0"], o => o.Sent > blockedAt && o.Status == HttpStatusCode.OK);

        // After Redis returns: the cold client loads (and is served), and every write is flushed.
        await Wait.UntilAsync(async () => await cluster.InferAsync(cluster.Live[0], coldKey) == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the cold client loads");
        await stop.CancelAsync();
        await running;
        var coldLoaded = load.Now - up;
        await Wait.UntilAsync(async () =>
        {
            foreach (var client in keys.Keys)
            {
                var state = await StoredState.ClientAsync(cluster.Redis, client);
                if (state is null || state.QuotaUsed < load.Served(client))
                {
                    return false;
                }
            }

            return (await StoredState.ClientAsync(cluster.Redis, "h0"))?.Enforcement == EnforcementState.Blocked;
        }, TimeSpan.FromSeconds(30), "the flush");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"outage {up - down:F1} s; {during.Values.Sum(o => o.Count)} requests served from memory during it; after Redis returned the cold client loaded in {coldLoaded:F1} s and all state was flushed by {load.Now - up:F1} s"));

        // And it is durable: a cluster started afresh on this Redis sees the block and the usage.
        foreach (var silo in cluster.Live)
        {
            silo.Kill();
        }

        var restart = load.Now;
        await cluster.AddSilosAsync(1);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"a fresh silo was ready {load.Now - restart:F1} s after the others were killed"));
        Assert.Equal(HttpStatusCode.Forbidden, await cluster.InferAsync(cluster.Live[0], keys["h0"]));
        var report = await cluster.ReportAsync("h3");
        Assert.True(report.GetProperty("usage").GetProperty("itemsToday").GetInt64() >= load.Served("h3"));
    }

    [Theory]
    [InlineData("Refuse", HttpStatusCode.ServiceUnavailable)]
    [InlineData("Serve", HttpStatusCode.OK)]
    public async Task RedisDown_ClientWhoseStateCannotLoad_FollowsThePolicy(string policy, HttpStatusCode expected)
    {
        // A configured client: its key needs no grain, so only its state is out of reach.
        const string key = "shk_configured-client-key-for-the-policy-test";
        await using var cluster = await SiloCluster.StartAsync(silos: 1, new Dictionary<string, string>
        {
            ["Shield__Protection__StateUnavailable"] = policy,
            ["Shield__Clients__cfg__ApiKeySha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))),
            ["Shield__Clients__cfg__Plan"] = "load",
        });
        await cluster.Redis.StopAsync();

        Assert.Equal(expected, await cluster.InferAsync(cluster.Live[0], key));
        if (policy == "Serve")
        {
            // Serving without protection is logged (the console logger writes in the background).
            await Wait.UntilAsync(() => cluster.Output.Contains("served without protection", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the fail-open log line");
        }
        else
        {
            Assert.DoesNotContain("served without protection", cluster.Output, StringComparison.Ordinal);
        }
    }

    private static async Task<string> SeedColdClientAsync(SiloCluster cluster)
    {
        var key = "shk_cold-client-key-for-the-outage-test";
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        await StoredState.WriteAsync(cluster.Redis, StoredState.Key("apikey", hash, "apikey"), new ApiKeyState { ClientId = "cold" });
        await StoredState.WriteAsync(cluster.Redis, StoredState.Key("client", "cold", "client"), new ClientState
        {
            Profile = new ClientProfile("load", null, ClientSource.AdminApi, DateTimeOffset.UtcNow),
            Version = ClientState.CurrentVersion,
        });
        return key;
    }
}
