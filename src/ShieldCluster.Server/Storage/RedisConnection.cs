using StackExchange.Redis;

namespace ShieldCluster.Server.Storage;

/// <summary>How every Redis connection of a silo is configured.</summary>
public static class RedisConnection
{
    /// <summary>
    /// <paramref name="connectionString"/>'s options, set to fail fast while Redis is away (no
    /// backlog of commands waiting for a reconnect, 2-second timeouts): the resilience pipelines
    /// decide about retries, and requests never queue behind a dead store.
    /// </summary>
    public static ConfigurationOptions Options(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2_000);
        options.AsyncTimeout = Math.Min(options.AsyncTimeout, 2_000);
        options.SyncTimeout = Math.Min(options.SyncTimeout, 2_000);
        return options;
    }
}
