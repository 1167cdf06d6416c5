using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Tests;

[Collection(ClusterCollection.Name)]
public class ApiKeyGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task BindAsync_ThenResolve_ReturnsTheClient_AndSurvivesDeactivation()
    {
        var key = fixture.Grains.GetGrain<IApiKeyGrain>(Guid.NewGuid().ToString("N"));
        Assert.Null(await key.ResolveAsync());
        Assert.True(await key.BindAsync("alice"));
        await fixture.Cluster.DeactivateAsync(key.GetGrainId());
        Assert.Equal("alice", await key.ResolveAsync());
    }

    [Fact]
    public async Task BindAsync_KeyOfAnotherClient_IsRefused()
    {
        var key = fixture.Grains.GetGrain<IApiKeyGrain>(Guid.NewGuid().ToString("N"));
        Assert.True(await key.BindAsync("alice"));
        Assert.False(await key.BindAsync("mallory"));
        Assert.Equal("alice", await key.ResolveAsync());
    }
}
