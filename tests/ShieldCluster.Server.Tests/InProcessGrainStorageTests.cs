using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Clients;
using ShieldCluster.Server.Storage;

namespace ShieldCluster.Server.Tests;

/// <summary>The embedded default's store: copies in and out, and ETags checked as a durable store checks them.</summary>
public class InProcessGrainStorageTests
{
    private static readonly GrainId Grain = GrainId.Create("client", "c1");

    private readonly InProcessGrainStorage _store = new(new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(ClientState).Assembly).AddAssembly(typeof(QueryRecord).Assembly))
        .BuildServiceProvider().GetRequiredService<DeepCopier>());

    [Fact]
    public async Task Read_GivesACopyOfWhatWasWritten_WithItsETag()
    {
        var written = new GrainState<ClientState>(new ClientState { QuotaUsed = 7 });
        await _store.WriteStateAsync("client", Grain, written);
        written.State!.QuotaUsed = 99; // the grain's object changes after the write: the stored copy does not

        var read = new GrainState<ClientState>();
        await _store.ReadStateAsync("client", Grain, read);

        Assert.Equal(7, read.State!.QuotaUsed);
        Assert.Equal(written.ETag, read.ETag);
        Assert.True(read.RecordExists);
        Assert.NotSame(written.State, read.State);
    }

    [Fact]
    public async Task Write_WithAnotherETag_IsRefused_AndChangesNothing()
    {
        var first = new GrainState<ClientState>(new ClientState { QuotaUsed = 1 });
        await _store.WriteStateAsync("client", Grain, first);
        var second = new GrainState<ClientState>();
        await _store.ReadStateAsync("client", Grain, second);
        second.State!.QuotaUsed = 2;
        await _store.WriteStateAsync("client", Grain, second);

        // The first writer's ETag is stale now; a writer that never read has none.
        first.State!.QuotaUsed = 3;
        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.WriteStateAsync("client", Grain, first));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.WriteStateAsync("client", Grain, new GrainState<ClientState>(new ClientState())));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.ClearStateAsync("client", Grain, first));

        var read = new GrainState<ClientState>();
        await _store.ReadStateAsync("client", Grain, read);
        Assert.Equal(2, read.State!.QuotaUsed);
    }

    [Fact]
    public async Task Missing_ReadsAsANewState_AndAWriteWithAnETagIsRefused()
    {
        var read = new GrainState<ClientHistory>();
        await _store.ReadStateAsync("history", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.NotNull(read.State);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.WriteStateAsync("history", Grain, new GrainState<ClientHistory>(new ClientHistory(), "gone")));
    }

    [Fact]
    public async Task Clear_RemovesTheState_ThenItIsWrittenAfresh()
    {
        var state = new GrainState<ClientState>(new ClientState { QuotaUsed = 5 });
        await _store.WriteStateAsync("client", Grain, state);
        await _store.ClearStateAsync("client", Grain, state);
        Assert.Null(state.ETag);

        var read = new GrainState<ClientState>();
        await _store.ReadStateAsync("client", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(0, read.State!.QuotaUsed);
        await _store.WriteStateAsync("client", Grain, new GrainState<ClientState>(new ClientState { QuotaUsed = 6 }));
    }
}
