using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using ShieldCluster.Grains.Clients;
using ShieldCluster.Testing;

namespace ShieldCluster.Cluster.Tests;

/// <summary>
/// Reads grain state straight from Redis with the serializer the silos write it with, so tests
/// check what is durable, not what a live grain holds in memory.
/// </summary>
internal static class StoredState
{
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(ClientState).Assembly).AddAssembly(typeof(StoredState).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    /// <summary>The Redis key of a grain's state under the default service id.</summary>
    public static string Key(string grainType, string key, string stateName) => $"shield/state/{grainType}/{key}/{stateName}";

    public static async Task<ClientState?> ClientAsync(RedisServer redis, string clientId) =>
        await ReadAsync<ClientState>(redis, Key("client", clientId, "client"));

    /// <summary>
    /// The client's stored history: the head with its records put back, those of its segments
    /// numbered from its start to before its end (a head of the first format holds them itself).
    /// </summary>
    public static async Task<ClientHistory?> HistoryAsync(RedisServer redis, string clientId)
    {
        var head = await HeadAsync(redis, clientId);
        if (head is not { SegmentSize: > 0 })
        {
            return head;
        }

        for (var segment = head.Start / head.SegmentSize; head.End > head.Start && segment <= (head.End - 1) / head.SegmentSize; segment++)
        {
            if (await SegmentAsync(redis, clientId, segment) is { } stored)
            {
                head.Records.AddRange(stored.Records.Where((_, i) => stored.First + i >= head.Start && stored.First + i < head.End));
            }
        }

        return head;
    }

    /// <summary>The client's stored history head as it is (in the segmented format, without records).</summary>
    public static async Task<ClientHistory?> HeadAsync(RedisServer redis, string clientId) =>
        await ReadAsync<ClientHistory>(redis, Key("client", clientId, "history"));

    /// <summary>The Redis key of one segment of the client's stored history.</summary>
    public static string SegmentKey(string clientId, long segment) => Key("client", clientId, $"history-{segment}");

    /// <summary>One segment of the client's stored history, or null when it is not stored.</summary>
    public static async Task<HistorySegment?> SegmentAsync(RedisServer redis, string clientId, long segment) =>
        await ReadAsync<HistorySegment>(redis, SegmentKey(clientId, segment));

    /// <summary>Deserialises stored bytes as <typeparamref name="T"/> (another release's shape of a state, say).</summary>
    public static T Deserialize<T>(byte[] bytes) => Serializer.Deserialize<T>(bytes) ?? throw new InvalidDataException("no state in the bytes");

    /// <summary>Writes <paramref name="value"/> as a grain's stored state (a state no silo has loaded yet).</summary>
    public static Task WriteAsync<T>(RedisServer redis, string key, T value) =>
        redis.HashSetAsync(key, ("etag", "seeded"u8.ToArray()), ("data", Serializer.SerializeToArray(value)));

    private static async Task<T?> ReadAsync<T>(RedisServer redis, string key)
        where T : class
    {
        // A cleared state keeps its key with empty data until it expires.
        var bytes = await redis.HashGetBytesAsync(key, "data");
        return bytes is null or { Length: 0 } ? null : Serializer.Deserialize<T>(bytes);
    }
}
