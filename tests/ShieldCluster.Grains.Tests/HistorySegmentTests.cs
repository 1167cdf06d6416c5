using ShieldCluster.Contracts;
using ShieldCluster.Grains.Clients;
using ShieldCluster.Grains.Options;
using Xunit.Abstractions;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// The client grain's history in its store: segments of <see cref="HistorySegment.Size"/> records
/// under a head, only the changed ones written, read back whole on activation (less what its store
/// lost), the first format migrated, everything cleared with the client.
/// </summary>
public class HistorySegmentTests(HistoryStoreFixture fixture, ITestOutputHelper output) : IClassFixture<HistoryStoreFixture>
{
    private const int Size = HistorySegment.Size;

    private static RecordingGrainStorage Storage => HistoryStoreFixture.Storage;

    private static DateTimeOffset Now => HistoryStoreFixture.Time.GetUtcNow();

    [Fact]
    public void Segment_OfDemoModelBatch1Records_SerialisesUnderTheLargeObjectThreshold()
    {
        // A Fashion-MNIST request of one image as the server records it: its 28x28 thumbnail and a full fingerprint.
        var random = new Random(7);
        var records = Enumerable.Range(0, Size).Select(i =>
        {
            var thumbnail = new byte[28 * 28];
            random.NextBytes(thumbnail);
            var fingerprint = Enumerable.Range(0, 50).Select(_ => (ulong)random.NextInt64(long.MinValue, long.MaxValue)).ToArray();
            return new QueryRecord(Now.AddMilliseconds(i), "fashion-mnist", "1", [new QueryItem((ulong)random.NextInt64(), i % 10, random.NextSingle(), thumbnail, fingerprint, false)]);
        }).ToList();
        var record = RecordingGrainStorage.Serializer.SerializeToArray(records[0]).Length;
        var segment = RecordingGrainStorage.Serializer.SerializeToArray(new HistorySegment { First = 0, Records = records }).Length;

        output.WriteLine($"one record: {record} bytes; a segment of {Size}: {segment} bytes");
        Assert.InRange(record, 1_000, 2_000);
        Assert.True(segment < 85_000, $"a segment of {Size} records is {segment} bytes");
    }

    [Fact]
    public async Task LongHistory_SurvivesReactivation_WithItsRecordsAndStart()
    {
        var (client, grain) = await NewClientAsync();
        var records = Records(300, Now.AddSeconds(-300));
        await client.RecordLeasedAsync(records, 0, 0);
        var stored = await StoredAsync(grain, h => h.End == 300);

        Assert.Equal((0, 300, Size), (stored.Start, stored.End, stored.SegmentSize));
        Assert.Empty(Storage.Read<ClientHistory>(grain, "history")!.Records);
        Assert.Equal(Enumerable.Range(0, 10).Select(k => $"history-{k}").Append("history").Order(), Storage.StateNames(grain));
        Assert.Equal(Keys(records), Keys(stored.Records));
        var before = (await client.GetReportAsync())!;

        await fixture.Cluster.DeactivateAsync(grain);
        var after = (await client.GetReportAsync())!;
        Assert.Equal(300, after.HistoryItems);
        Assert.Equal(before.Timeline, after.Timeline);

        // The grain's records as loaded, seen through a write of all of them: a record that expired as it
        // came in, after the others, moves every other one up by one and so rewrites every segment.
        await client.RecordAsync(Records(1, Now - HistoryStoreFixture.HistoryRetention - TimeSpan.FromMinutes(1), firstDigest: 10_000)[0]);
        stored = await StoredAsync(grain, h => h.End == 301);
        Assert.Equal(1, stored.Start);
        Assert.Equal(Keys(records), Keys(stored.Records));
    }

    [Fact]
    public async Task Flush_AfterAppending_WritesOnlyTheTouchedSegments_ThenTheHead()
    {
        var (client, grain) = await NewClientAsync();
        await client.RecordLeasedAsync(Records(300, Now.AddSeconds(-300)), 0, 0);
        await StoredAsync(grain, h => h.End == 300);
        var seen = Storage.Writes.Count;

        // Records 300 to 339: the end of segment 9 (288-319) and the start of segment 10.
        await client.RecordLeasedAsync(Records(40, Now.AddSeconds(-40), firstDigest: 300), 0, 0);
        await StoredAsync(grain, h => h.End == 340);

        var writes = Storage.Writes.Skip(seen).Where(w => w.Grain == grain).ToList();
        Assert.Equal(new[] { "history-9", "history-10", "history" }, writes.Select(w => w.State));
        Assert.All(writes, w => Assert.False(w.Failed));
        output.WriteLine(string.Join(", ", writes.Select(w => $"{w.State}: {w.Bytes} bytes")));
    }

    [Fact]
    public async Task DroppedFront_ByCapacityAndRetention_LoadsFromTheStart_AndSegmentsBelowItAreCleared()
    {
        var (client, grain) = await NewClientAsync();
        var first = Now.AddSeconds(-1_100);
        var records = Records(1_100, first);
        await client.RecordLeasedAsync(records[..500], 0, 0);
        await StoredAsync(grain, h => h.End == 500);

        // 1,100 one-item records in a history of 1,000 items: records 0-99 go.
        await client.RecordLeasedAsync(records[500..], 0, 0);
        var stored = await StoredAsync(grain, h => h.End == 1_100);
        Assert.Equal(100, stored.Start);
        await WaitAsync(() => !Storage.StateNames(grain).Intersect(["history-0", "history-1", "history-2"]).Any(), "segments 0-2 (records 0-95) cleared");
        Assert.Equal(96, Storage.Read<HistorySegment>(grain, "history-3")!.First);

        // An hour after record 149.5: records 100-149 expire, the history starts at 150.
        HistoryStoreFixture.Time.Advance(first.AddSeconds(149.5) + HistoryStoreFixture.HistoryRetention - Now);
        await client.RecordLeasedAsync(Records(1, Now, firstDigest: 20_000), 0, 0);
        stored = await StoredAsync(grain, h => h.End == 1_101);
        Assert.Equal(150, stored.Start);
        await WaitAsync(() => !Storage.StateNames(grain).Contains("history-3"), "segment 3 (records 96-127) cleared");
        Assert.Contains("history-4", Storage.StateNames(grain));

        await fixture.Cluster.DeactivateAsync(grain);
        Assert.Equal(951, (await client.GetReportAsync())!.HistoryItems);
        await client.RecordAsync(Records(1, Now - HistoryStoreFixture.HistoryRetention - TimeSpan.FromMinutes(1), firstDigest: 30_000)[0]);
        stored = await StoredAsync(grain, h => h.End == 1_102);
        Assert.Equal(151, stored.Start);
        Assert.Equal(Keys(records[150..]).Append((20_000UL, 1)), Keys(stored.Records));
    }

    [Fact]
    public async Task MissingMiddleSegment_LosesOnlyItsRecords_AndTheRestIsStoredAgainInOrder()
    {
        var (client, grain) = await NewClientAsync();
        var records = Records(300, Now.AddSeconds(-300));
        await client.RecordLeasedAsync(records, 0, 0);
        await StoredAsync(grain, h => h.End == 300);
        await fixture.Cluster.DeactivateAsync(grain);

        Storage.Remove(grain, "history-4");

        Assert.Equal(300 - Size, (await client.GetReportAsync())!.HistoryItems);
        // The records before the lost ones move up by as many (the numbering still ends at 300).
        var stored = await StoredAsync(grain, h => h.Start == Size);
        Assert.Equal(300, stored.End);
        Assert.Equal(Keys([.. records[..128], .. records[160..]]), Keys(stored.Records));
    }

    [Fact]
    public async Task FirstFormatHead_Loads_AndIsWrittenInSegments()
    {
        var (client, grain) = await NewClientAsync();
        await fixture.Cluster.DeactivateAsync(grain);
        var records = Records(50, Now.AddSeconds(-50));
        Storage.Plant(grain, "history", new ClientHistory { Records = records, Start = 7 });

        Assert.Equal(50, (await client.GetReportAsync())!.HistoryItems);

        var stored = await StoredAsync(grain, h => h.SegmentSize == Size);
        Assert.Empty(Storage.Read<ClientHistory>(grain, "history")!.Records);
        Assert.Equal((7, 57), (stored.Start, stored.End));
        Assert.Equal(new[] { "history", "history-0", "history-1" }, Storage.StateNames(grain));
        Assert.Equal(Keys(records), Keys(stored.Records));
    }

    [Fact]
    public async Task FailedSegmentWrite_HoldsBackTheHead_AndIsRetriedUntilItLands()
    {
        var (client, grain) = await NewClientAsync();
        var records = Records(110, Now.AddSeconds(-110));
        await client.RecordLeasedAsync(records[..100], 0, 0);
        await StoredAsync(grain, h => h.End == 100);

        Storage.FailWrites = state => state == "history-3";
        try
        {
            await client.RecordLeasedAsync(records[100..], 0, 0);
            await WaitAsync(() => Storage.Writes.Count(w => w.Grain == grain && w.Failed) >= 3, "three failed writes of segment 3");
            Assert.Equal(100, Storage.Read<ClientHistory>(grain, "history")!.End);
        }
        finally
        {
            Storage.FailWrites = null;
        }

        var stored = await StoredAsync(grain, h => h.End == 110);
        Assert.Equal(Keys(records), Keys(stored.Records));
    }

    [Fact]
    public async Task Delete_ClearsTheHeadAndEverySegment()
    {
        var (client, grain) = await NewClientAsync();
        await client.RecordLeasedAsync(Records(100, Now.AddSeconds(-100)), 0, 0);
        await StoredAsync(grain, h => h.End == 100);
        Assert.Contains("history-3", Storage.StateNames(grain));

        Assert.True(await client.DeleteAsync("test-admin"));

        Assert.DoesNotContain(Storage.StateNames(grain), s => s.StartsWith("history", StringComparison.Ordinal));
    }

    private async Task<(IClientGrain Client, GrainId Grain)> NewClientAsync()
    {
        var client = fixture.Grains.GetGrain<IClientGrain>("h-" + Guid.NewGuid().ToString("N")[..12]);
        Assert.True(await client.RegisterAsync(new ClientProfile(IdentityOptions.DefaultPlan, null, ClientSource.AdminApi, Now)));
        return (client, client.GetGrainId());
    }

    /// <summary>One-item records one second apart from <paramref name="from"/>, with digests counting from <paramref name="firstDigest"/>.</summary>
    private static List<QueryRecord> Records(int count, DateTimeOffset from, int firstDigest = 0) =>
        [.. Enumerable.Range(0, count).Select(i => new QueryRecord(from.AddSeconds(i), "fashion-mnist", "1", [new QueryItem((ulong)(firstDigest + i), i % 10, 0.9f, new byte[49])]))];

    private static IEnumerable<(ulong Digest, int Items)> Keys(IEnumerable<QueryRecord> records) =>
        records.Select(r => (r.Items[0].Digest, r.Items.Count));

    /// <summary>The stored history once it satisfies <paramref name="condition"/> (within 10 seconds).</summary>
    private static async Task<ClientHistory> StoredAsync(GrainId grain, Func<ClientHistory, bool> condition)
    {
        ClientHistory? stored = null;
        await WaitAsync(() => (stored = Storage.History(grain)) is not null && condition(stored), "the stored history");
        return stored!;
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}: not reached within 10 s");
            await Task.Delay(20);
        }
    }
}
