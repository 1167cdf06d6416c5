using System.Net;
using System.Text.Json;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Clients;
using ShieldCluster.Testing;

namespace ShieldCluster.Cluster.Tests;

/// <summary>
/// State written by the first release with Redis storage (format 1: the query history inside the
/// client's state; captured from a real silo into Fixtures/) loads in this release, which moves the
/// history into its own expiring store.
/// </summary>
public class StateVersionTests
{
    [Fact]
    public async Task FirstReleaseState_LoadsBlockedWithUsageAndHistory_AndIsMigrated()
    {
        await using var redis = await RedisServer.StartAsync();
        var fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        var apiKey = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixtures, "state-v1-client.json"))).RootElement.GetProperty("apiKey").GetString()!;
        var keyHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(apiKey)));
        await redis.HashSetAsync(StoredState.Key("client", "legacy", "client"), ("etag", "v1-client"u8.ToArray()), ("data", File.ReadAllBytes(Path.Combine(fixtures, "state-v1-client.bin"))));
        await redis.HashSetAsync(StoredState.Key("apikey", keyHash, "apikey"), ("etag", "v1-key"u8.ToArray()), ("data", File.ReadAllBytes(Path.Combine(fixtures, "state-v1-apikey.bin"))));
        var before = await StoredState.ClientAsync(redis, "legacy");
        Assert.Equal(0, before!.Version);
        Assert.Equal(4, before.History.Count);

        await using var cluster = await SiloCluster.StartWithRedisAsync(redis, silos: 1);
        var report = await cluster.ReportAsync("legacy");

        Assert.Equal("standard", report.GetProperty("plan").GetString());
        Assert.Equal(4, report.GetProperty("usage").GetProperty("totalRequests").GetInt64());
        Assert.Equal(11, report.GetProperty("usage").GetProperty("totalItems").GetInt64());
        Assert.Equal(11, report.GetProperty("historyItems").GetInt32());
        Assert.Equal("blocked", report.GetProperty("enforcement").GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, await cluster.InferAsync(cluster.Live[0], apiKey));

        // Migrated in storage: format 2, the history moved to keys of its own, a head and its segments.
        var migrated = await WaitAsync(() => StoredState.ClientAsync(redis, "legacy"), s => s?.Version == ClientState.CurrentVersion);
        Assert.Empty(migrated!.History);
        Assert.Equal(EnforcementState.Blocked, migrated.Enforcement);
        var history = await WaitAsync(() => StoredState.HistoryAsync(redis, "legacy"), h => h is not null);
        Assert.Equal(11, history!.Records.Sum(r => r.Items.Count));
        var head = await StoredState.HeadAsync(redis, "legacy");
        Assert.Equal(HistorySegment.Size, head!.SegmentSize);
        Assert.Empty(head.Records);
        Assert.Equal(4, head.End - head.Start);
        Assert.Equal(4, history.Records.Count);
        Assert.NotNull(await StoredState.SegmentAsync(redis, "legacy", head.Start / HistorySegment.Size));
    }

    private static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var value = await read();
            if (condition(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>The other direction of a rolling update: a silo of the previous release reading state this release wrote.</summary>
public class MixedVersionTests
{
    [Fact]
    public async Task StateWrittenByThisRelease_ReadsInThePreviousReleasesShape_KeepingUsageAndBlock()
    {
        await using var cluster = await SiloCluster.StartAsync(silos: 1);
        var key = await cluster.CreateClientAsync("mixed");
        Assert.Equal(HttpStatusCode.OK, await cluster.InferAsync(cluster.Live[0], key));
        await cluster.BlockAsync("mixed");

        var bytes = await cluster.Redis.HashGetBytesAsync(StoredState.Key("client", "mixed", "client"), "data");
        var current = await StoredState.ClientAsync(cluster.Redis, "mixed");
        Assert.Equal(ClientState.CurrentVersion, current!.Version);
        Assert.NotEmpty(current.Keys);

        // The previous release's type: fields are matched by [Id]; the fields it does not know are skipped.
        var old = StoredState.Deserialize<PreviousRelease.ClientStateV1>(bytes!);
        Assert.Equal("load", old.Profile!.Plan);
        Assert.Equal(current.QuotaUsed, old.QuotaUsed);
        Assert.Equal(1, old.TotalRequests);
        Assert.Equal(EnforcementState.Blocked, old.Enforcement);
        Assert.Equal(current.Events.Count, old.Events.Count);
    }
}
