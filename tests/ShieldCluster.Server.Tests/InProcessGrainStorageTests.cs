using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Clients;
using ShieldCluster.Server.Storage;

namespace ShieldCluster.Server.Tests;

/// <summary>The embedded default's store, copying objects: copies in and out, and ETags checked as a durable store checks them.</summary>
public sealed class CopyingInProcessGrainStorageTests() : InProcessGrainStorageTests(s => new InProcessGrainStorage(s.GetRequiredService<DeepCopier>()));

/// <summary>The embedded default's store, serialising states: the same behaviour, and nothing of the written objects kept.</summary>
public sealed class SerialisingInProcessGrainStorageTests() : InProcessGrainStorageTests(s => new InProcessGrainStorage(s.GetRequiredService<Serializer>()))
{
    [Fact]
    public async Task History_ReadsBackEqual_ButNoneOfTheWrittenRecords()
    {
        var record = new QueryRecord(DateTimeOffset.UnixEpoch, "m", "1", [new QueryItem(5, 3, 0.5f, [1, 2, 3], [9UL, 8UL], true)]);
        var written = new GrainState<HistorySegment>(new HistorySegment { First = 32, Records = [record] });
        await Store.WriteStateAsync("history-1", Grain, written);

        var read = new GrainState<HistorySegment>();
        await Store.ReadStateAsync("history-1", Grain, read);

        var back = Assert.Single(read.State!.Records);
        Assert.NotSame(record, back);
        Assert.Equal(32, read.State.First);
        Assert.Equal((record.At, record.Model, record.Version), (back.At, back.Model, back.Version));
        var item = Assert.Single(back.Items);
        Assert.Equal((5UL, 3, 0.5f, (bool?)true), (item.Digest, item.Label, item.Confidence, item.SqueezeFlagged));
        Assert.Equal([1, 2, 3], item.Thumbnail);
        Assert.Equal([9UL, 8UL], item.Fingerprint!);
    }

    private static HistorySegment Segment(long first, int records, int thumbnail) => new()
    {
        First = first,
        Records = [.. Enumerable.Range(0, records).Select(r => new QueryRecord(DateTimeOffset.UnixEpoch.AddSeconds(r), "m", "1",
            [new QueryItem((ulong)(first + r), r % 10, 0.5f, [.. Enumerable.Range(0, thumbnail).Select(b => (byte)(b + r))], [(ulong)r], null)]))],
    };

    private async Task<HistorySegment> ReadAsync(string name)
    {
        var read = new GrainState<HistorySegment>();
        await Store.ReadStateAsync(name, Grain, read);
        return read.State!;
    }

    [Fact]
    public async Task Rewrites_SmallerThenLarger_ReadBackExactly_InTheSameArrayWhenItFits()
    {
        var state = new GrainState<HistorySegment>(Segment(0, 32, 200));
        await Store.WriteStateAsync("history-0", Grain, state);
        state.State = Segment(0, 3, 10); // much smaller: written into the same array, its length kept
        await Store.WriteStateAsync("history-0", Grain, state);
        var small = await ReadAsync("history-0");
        Assert.Equal(3, small.Records.Count);
        Assert.Equal([.. Enumerable.Range(2, 10).Select(b => (byte)b)], small.Records[2].Items[0].Thumbnail);
        Assert.Equal(0, Store.FreeBytes);

        state.State = Segment(0, 32, 1_000); // outgrows it: the old array is kept for reuse
        await Store.WriteStateAsync("history-0", Grain, state);
        var large = await ReadAsync("history-0");
        Assert.Equal(32, large.Records.Count);
        Assert.Equal(1_000, large.Records[31].Items[0].Thumbnail!.Length);
        Assert.Equal(unchecked((byte)(999 + 31)), large.Records[31].Items[0].Thumbnail![999]);
        Assert.True(Store.FreeBytes > 0);
    }

    [Fact]
    public async Task ClearedSegmentsArray_TakenByTheNextSegmentOfItsSize()
    {
        var old = new GrainState<HistorySegment>(Segment(0, 32, 300));
        await Store.WriteStateAsync("history-0", Grain, old);
        await Store.ClearStateAsync("history-0", Grain, old);
        var kept = Store.FreeBytes;
        Assert.True(kept > 0);

        // The history moves on: the next segment, of about the same size, takes the cleared one's array.
        await Store.WriteStateAsync("history-5", Grain, new GrainState<HistorySegment>(Segment(160, 32, 300)));
        Assert.Equal(0, Store.FreeBytes);
        Assert.Equal(161UL, (await ReadAsync("history-5")).Records[1].Items[0].Digest);
        Assert.Empty((await ReadAsync("history-0")).Records);
    }

    [Fact]
    public async Task ConcurrentWritesReadsAndClears_EveryReadIsOneWholeWrite()
    {
        // Four writers each rewrite their own segment with growing and shrinking contents, and clear
        // it now and then (its array going to another's next write), while readers read them all.
        var stop = DateTime.UtcNow.AddSeconds(1);
        var failures = 0;
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var name = $"history-{w}";
            var state = new GrainState<HistorySegment>();
            for (var round = 0; DateTime.UtcNow < stop; round++)
            {
                state.State = Segment(w * 1_000 + round, 1 + (round % 32), 50 + (round % 7) * 40);
                await Store.WriteStateAsync(name, Grain, state);
                if (round % 5 == 4)
                {
                    await Store.ClearStateAsync(name, Grain, state);
                }
            }
        }));
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (DateTime.UtcNow < stop)
            {
                for (var w = 0; w < 4; w++)
                {
                    var read = await ReadAsync($"history-{w}");
                    if (read.Records.Count == 0)
                    {
                        continue;
                    }

                    // A whole write: as many records as its round says, each with the round's thumbnail size.
                    var round = read.First - w * 1_000;
                    var whole = read.Records.Count == 1 + (round % 32)
                        && read.Records.All(r => r.Items[0].Thumbnail!.Length == 50 + (round % 7) * 40 && r.Items[0].Digest == (ulong)(read.First + read.Records.IndexOf(r)));
                    if (!whole)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }
        }));

        await Task.WhenAll(writers.Concat(readers));
        Assert.Equal(0, failures);
    }
}

/// <summary>What both kinds of the embedded default's store do: copies in and out, and ETags checked as a durable store checks them.</summary>
public abstract class InProcessGrainStorageTests(Func<IServiceProvider, InProcessGrainStorage> create)
{
    protected static readonly GrainId Grain = GrainId.Create("client", "c1");

    protected InProcessGrainStorage Store { get; } = create(new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(ClientState).Assembly).AddAssembly(typeof(QueryRecord).Assembly))
        .BuildServiceProvider());

    [Fact]
    public async Task Read_GivesACopyOfWhatWasWritten_WithItsETag()
    {
        var written = new GrainState<ClientState>(new ClientState { QuotaUsed = 7 });
        await Store.WriteStateAsync("client", Grain, written);
        written.State!.QuotaUsed = 99; // the grain's object changes after the write: the stored copy does not

        var read = new GrainState<ClientState>();
        await Store.ReadStateAsync("client", Grain, read);

        Assert.Equal(7, read.State!.QuotaUsed);
        Assert.Equal(written.ETag, read.ETag);
        Assert.True(read.RecordExists);
        Assert.NotSame(written.State, read.State);
    }

    [Fact]
    public async Task Write_WithAnotherETag_IsRefused_AndChangesNothing()
    {
        var first = new GrainState<ClientState>(new ClientState { QuotaUsed = 1 });
        await Store.WriteStateAsync("client", Grain, first);
        var second = new GrainState<ClientState>();
        await Store.ReadStateAsync("client", Grain, second);
        second.State!.QuotaUsed = 2;
        await Store.WriteStateAsync("client", Grain, second);

        // The first writer's ETag is stale now; a writer that never read has none.
        first.State!.QuotaUsed = 3;
        await Assert.ThrowsAsync<InconsistentStateException>(() => Store.WriteStateAsync("client", Grain, first));
        await Assert.ThrowsAsync<InconsistentStateException>(() => Store.WriteStateAsync("client", Grain, new GrainState<ClientState>(new ClientState())));
        await Assert.ThrowsAsync<InconsistentStateException>(() => Store.ClearStateAsync("client", Grain, first));

        var read = new GrainState<ClientState>();
        await Store.ReadStateAsync("client", Grain, read);
        Assert.Equal(2, read.State!.QuotaUsed);
    }

    [Fact]
    public async Task Missing_ReadsAsANewState_AndAWriteWithAnETagIsRefused()
    {
        var read = new GrainState<ClientHistory>();
        await Store.ReadStateAsync("history", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.NotNull(read.State);

        await Assert.ThrowsAsync<InconsistentStateException>(() => Store.WriteStateAsync("history", Grain, new GrainState<ClientHistory>(new ClientHistory(), "gone")));
        Assert.Equal(0, Store.Count); // the refused write leaves nothing behind
    }

    [Fact]
    public async Task Clear_RemovesTheState_ThenItIsWrittenAfresh()
    {
        var state = new GrainState<ClientState>(new ClientState { QuotaUsed = 5 });
        await Store.WriteStateAsync("client", Grain, state);
        await Store.ClearStateAsync("client", Grain, state);
        Assert.Null(state.ETag);

        var read = new GrainState<ClientState>();
        await Store.ReadStateAsync("client", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(0, read.State!.QuotaUsed);
        await Store.WriteStateAsync("client", Grain, new GrainState<ClientState>(new ClientState { QuotaUsed = 6 }));
    }
}
