using System.Globalization;
using System.Net;
using ShieldCluster.Grains.Clients;
using Xunit.Abstractions;

namespace ShieldCluster.Cluster.Tests;

/// <summary>
/// The query history in Redis: a head and one key per segment, each with the history store's
/// retention expiry, and a segment of the demo model's batch-1 records under the 85,000 bytes from
/// which buffers land on the large-object heap.
/// </summary>
public class HistorySegmentStoreTests(ITestOutputHelper output)
{
    [Fact]
    public async Task History_IsStoredOneKeyPerSegment_WithTheRetentionExpiry_EachUnder85000Bytes()
    {
        const int requests = 40;
        await using var cluster = await StartAsync();
        var key = await cluster.CreateClientAsync("segmented");
        await ServeAsync(cluster, key, requests);

        await Wait.UntilAsync(async () => (await StoredState.HeadAsync(cluster.Redis, "segmented"))?.End == requests, TimeSpan.FromSeconds(30), "a stored head counting every request");

        var head = (await StoredState.HeadAsync(cluster.Redis, "segmented"))!;
        Assert.Equal((0, HistorySegment.Size), (head.Start, head.SegmentSize));
        Assert.Empty(head.Records);
        foreach (var segment in new[] { 0, 1 })
        {
            var segmentKey = StoredState.SegmentKey("segmented", segment);
            var bytes = await cluster.Redis.HashGetBytesAsync(segmentKey, "data");
            var stored = (await StoredState.SegmentAsync(cluster.Redis, "segmented", segment))!;
            var ttl = long.Parse((await cluster.Redis.CommandAsync("TTL", segmentKey))!.TrimStart(':'), CultureInfo.InvariantCulture);
            output.WriteLine($"{segmentKey}: {stored.Records.Count} records, {bytes!.Length} bytes, expires in {ttl} s");

            Assert.Equal(segment * HistorySegment.Size, stored.First);
            Assert.Equal(segment == 0 ? HistorySegment.Size : requests - HistorySegment.Size, stored.Records.Count);
            // Batch-1 records of the demo model: one 28x28 image each, its full thumbnail and its fingerprint.
            Assert.All(stored.Records, r => Assert.Equal(784, Assert.Single(r.Items).Thumbnail.Length));
            Assert.All(stored.Records, r => Assert.NotNull(r.Items[0].Fingerprint));
            Assert.True(bytes.Length < 85_000, $"{segmentKey} is {bytes.Length} bytes");
            // The history store's expiry (the default retention, 7 days) applies to every segment's key.
            Assert.InRange(ttl, TimeSpan.FromDays(7).TotalSeconds - 60, TimeSpan.FromDays(7).TotalSeconds);
        }

        Assert.Null(await cluster.Redis.HashGetBytesAsync(StoredState.SegmentKey("segmented", 2), "data"));
        Assert.Equal(requests, (await StoredState.HistoryAsync(cluster.Redis, "segmented"))!.Records.Count);
    }

    [Fact]
    public async Task DeletedClient_LeavesNoHistory_AndTheIdCreatedAgainStoresItsOwn()
    {
        await using var cluster = await StartAsync();
        var key = await cluster.CreateClientAsync("recreated");
        await ServeAsync(cluster, key, 40);
        await Wait.UntilAsync(async () => (await StoredState.HeadAsync(cluster.Redis, "recreated"))?.End == 40, TimeSpan.FromSeconds(30), "a stored head counting every request");

        using (var deleted = await cluster.AdminAsync(HttpMethod.Delete, "/admin/clients/recreated", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Null(await StoredState.HeadAsync(cluster.Redis, "recreated"));
        Assert.Null(await StoredState.SegmentAsync(cluster.Redis, "recreated", 0));
        Assert.Null(await StoredState.SegmentAsync(cluster.Redis, "recreated", 1));

        // Not emptied but gone: the client's state, its history head and every segment.
        string[] keys =
        [
            StoredState.Key("client", "recreated", "client"),
            StoredState.Key("client", "recreated", "history"),
            StoredState.SegmentKey("recreated", 0),
            StoredState.SegmentKey("recreated", 1),
        ];
        foreach (var gone in keys)
        {
            Assert.Equal(":0", await cluster.Redis.CommandAsync("EXISTS", gone));
        }

        // The new client's segment 0 replaces what the old one's left in its key.
        key = await cluster.CreateClientAsync("recreated");
        await ServeAsync(cluster, key, 5);
        await Wait.UntilAsync(async () => (await StoredState.HeadAsync(cluster.Redis, "recreated"))?.End == 5, TimeSpan.FromSeconds(30), "the new client's head");
        var history = (await StoredState.HistoryAsync(cluster.Redis, "recreated"))!;
        Assert.Equal(0, history.Start);
        Assert.Equal(5, history.Records.Count);
    }

    private static Task<SiloCluster> StartAsync() => SiloCluster.StartAsync(silos: 1, new Dictionary<string, string>
    {
        ["Shield__Protection__HistoryWriteInterval"] = "00:00:00.200",
    });

    private static async Task ServeAsync(SiloCluster cluster, string key, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await cluster.InferAsync(cluster.Live[0], key));
        }
    }
}
