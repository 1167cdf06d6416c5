using System.Net;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Clients;
using Xunit.Abstractions;

namespace ShieldCluster.Cluster.Tests;

/// <summary>
/// A second activation of one client (Orleans' default directory allows one for a while after a
/// silo fails) writes the client's state and history in Redis while the first goes on serving: the
/// first's next writes are refused for their ETags. Played here by writing what the second would
/// write straight into Redis, under a new ETag, between a real silo's requests. Neither
/// activation's usage nor records may be lost: both are in the store afterwards.
/// </summary>
public class DuplicateActivationTests(ITestOutputHelper output)
{
    private const string Client = "twice";

    [Fact]
    public async Task WritesOfASecondActivation_AreMergedWithTheFirstOnes_NotLostOrOverwritten()
    {
        await using var cluster = await SiloCluster.StartAsync(silos: 1, new Dictionary<string, string>
        {
            ["Shield__Protection__HistoryWriteInterval"] = "00:00:00.200",
        });
        var key = await cluster.CreateClientAsync(Client);
        await ServeAsync(cluster, key, 20);
        await Wait.UntilAsync(async () => (await StoredState.ClientAsync(cluster.Redis, Client))?.QuotaUsed == 20
            && (await StoredState.HeadAsync(cluster.Redis, Client))?.End == 20, TimeSpan.FromSeconds(30), "the first 20 requests stored");

        // The second activation served 7 requests of its own and stored them.
        var theirs = (await StoredState.ClientAsync(cluster.Redis, Client))!;
        theirs.QuotaUsed += 7;
        theirs.TotalRequests += 7;
        theirs.TotalItems += 7;
        theirs.Writer = Guid.NewGuid(); // the second activation's own id
        await StoredState.WriteAsync(cluster.Redis, StoredState.Key("client", Client, "client"), theirs);
        var segment = (await StoredState.SegmentAsync(cluster.Redis, Client, 0))!;
        var template = segment.Records[0];
        var theirRecords = Enumerable.Range(0, 7).Select(i => template with { At = DateTimeOffset.UtcNow.AddMilliseconds(i), Version = $"theirs-{i}" }).ToList();
        segment.Records.AddRange(theirRecords);
        await StoredState.WriteAsync(cluster.Redis, StoredState.SegmentKey(Client, 0), segment);
        var head = (await StoredState.HeadAsync(cluster.Redis, Client))!;
        head.End += 7;
        head.Writer = theirs.Writer;
        await StoredState.WriteAsync(cluster.Redis, StoredState.Key("client", Client, "history"), head);

        // The first activation goes on: its writes are refused, and merged.
        await ServeAsync(cluster, key, 10);
        try
        {
            await Wait.UntilAsync(async () => (await StoredState.ClientAsync(cluster.Redis, Client))?.QuotaUsed == 37
                && (await StoredState.HeadAsync(cluster.Redis, Client))?.End == 37, TimeSpan.FromSeconds(30), "both activations' 37 requests stored");
        }
        catch
        {
            output.WriteLine($"stored: quota {(await StoredState.ClientAsync(cluster.Redis, Client))?.QuotaUsed}, history end {(await StoredState.HeadAsync(cluster.Redis, Client))?.End}");
            output.WriteLine(string.Join('\n', cluster.Output.Split('\n').Where(l => l.Contains(Client, StringComparison.Ordinal))));
            throw;
        }

        var state = (await StoredState.ClientAsync(cluster.Redis, Client))!;
        Assert.Equal((37, 37), (state.TotalRequests, state.TotalItems));
        var history = (await StoredState.HistoryAsync(cluster.Redis, Client))!;
        Assert.Equal(37, history.Records.Count);
        Assert.Equal(theirRecords.Select(r => r.Version), history.Records.Skip(20).Take(7).Select(r => r.Version));
        Assert.Equal(30, history.Records.Count(r => !r.Version.StartsWith("theirs-", StringComparison.Ordinal)));

        // Served on: the activation that loads the merged state counts from it.
        await ServeAsync(cluster, key, 3);
        await Wait.UntilAsync(async () => (await cluster.ReportAsync(Client)).GetProperty("usage").GetProperty("itemsToday").GetInt64() == 40, TimeSpan.FromSeconds(30), "40 items counted");
        var report = await cluster.ReportAsync(Client);
        Assert.Equal(40, report.GetProperty("historyItems").GetInt32());
        Assert.Equal(40, report.GetProperty("usage").GetProperty("totalRequests").GetInt64());
    }

    private static async Task ServeAsync(SiloCluster cluster, string key, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await cluster.InferAsync(cluster.Live[0], key));
        }
    }
}
