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
