namespace ShieldCluster.LoadGen;

/// <summary>
/// The run's two servers (protection off and on), each started and prepared (clients created, the
/// wire checked) the first time a phase needs it, and stopped by <see cref="ReleaseAsync"/> or at
/// dispose. An interleaved run keeps one set for all its rounds.
/// </summary>
internal sealed class ServerSet : IAsyncDisposable
{
    private (ServerTarget Target, HttpLoad.Context Context)? _unprotected;
    private (ServerTarget Target, HttpLoad.Context Context)? _protected;

    /// <summary>The protected server, once started.</summary>
    public ServerTarget? Protected => _protected?.Target;

    /// <summary>How often a server was started (or attached to) and prepared.</summary>
    public int Starts { get; private set; }

    /// <summary>The server's phase context, from <paramref name="start"/> the first time.</summary>
    public async Task<HttpLoad.Context> GetAsync(bool protection, Func<Task<(ServerTarget Target, HttpLoad.Context Context)>> start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if ((protection ? _protected : _unprotected) is { } running)
        {
            return running.Context;
        }

        var started = await start();
        Starts++;
        if (protection)
        {
            _protected = started;
        }
        else
        {
            _unprotected = started;
        }

        return started.Context;
    }

    /// <summary>Stops that server, if it runs (a later <see cref="GetAsync"/> starts a new one).</summary>
    public async Task ReleaseAsync(bool protection)
    {
        var running = protection ? _protected : _unprotected;
        if (protection)
        {
            _protected = null;
        }
        else
        {
            _unprotected = null;
        }

        if (running is { } r)
        {
            await r.Target.DisposeAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync(protection: false);
        await ReleaseAsync(protection: true);
    }
}
