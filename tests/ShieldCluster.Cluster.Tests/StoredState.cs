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

    public static async Task<ClientHistory?> HistoryAsync(RedisServer redis, string clientId) =>
        await ReadAsync<ClientHistory>(redis, Key("client", clientId, "history"));

    /// <summary>Deserialises stored bytes as <typeparamref name="T"/> (another release's shape of a state, say).</summary>
    public static T Deserialize<T>(byte[] bytes) => Serializer.Deserialize<T>(bytes) ?? throw new InvalidDataException("no state in the bytes");

    /// <summary>Writes <paramref name="value"/> as a grain's stored state (a state no silo has loaded yet).</summary>
    public static Task WriteAsync<T>(RedisServer redis, string key, T value) =>
        redis.HashSetAsync(key, ("etag", "seeded"u8.ToArray()), ("data", Serializer.SerializeToArray(value)));

    private static async Task<T?> ReadAsync<T>(RedisServer redis, string key)
        where T : class
    {
        var bytes = await redis.HashGetBytesAsync(key, "data");
        return bytes is null ? null : Serializer.Deserialize<T>(bytes);
    }
}
