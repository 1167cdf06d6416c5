using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using ShieldCluster.Grains.Clients;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// Grain storage in this process's memory that keeps states serialised with Orleans' serializer (as
/// the silo's store does), checks ETags as the Redis store does, records every write attempt with
/// its size, and fails the writes a test asks it to: the history tests read, count, remove and
/// plant what the client grains store.
/// </summary>
internal sealed class RecordingGrainStorage : IGrainStorage
{
    /// <summary>Orleans' serializer with the grains' state types, as the silo's store has it.</summary>
    public static Serializer Serializer { get; } = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(ClientHistory).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    private readonly ConcurrentDictionary<(GrainId Grain, string State), (string ETag, byte[] Data)> _entries = new();

    /// <summary>Every write attempt, in order: which state of which grain, its serialised size, and whether it failed.</summary>
    public ConcurrentQueue<StoredWrite> Writes { get; } = new();

    /// <summary>The state names whose writes fail (a store that is down for them); null: none.</summary>
    public Func<string, bool>? FailWrites { get; set; }

    /// <summary>The names of the states stored for <paramref name="grain"/>.</summary>
    public IReadOnlyList<string> StateNames(GrainId grain) => [.. _entries.Keys.Where(k => k.Grain == grain).Select(k => k.State).Order()];

    /// <summary>The stored <paramref name="state"/> of <paramref name="grain"/>, or null.</summary>
    public T? Read<T>(GrainId grain, string state)
        where T : class =>
        _entries.TryGetValue((grain, state), out var entry) ? Serializer.Deserialize<T>(entry.Data) : null;

    /// <summary>Stores <paramref name="value"/> as <paramref name="state"/> of <paramref name="grain"/>, as an earlier release would have.</summary>
    public void Plant<T>(GrainId grain, string state, T value) => _entries[(grain, state)] = (Guid.NewGuid().ToString("N"), Serializer.SerializeToArray(value));

    /// <summary>Removes a stored state, as an expiry would.</summary>
    public void Remove(GrainId grain, string state) => Assert.True(_entries.TryRemove((grain, state), out _), $"{state} of {grain} was not stored");

    /// <summary>
    /// The client's stored history: the head with its records, or with those of its segments
    /// numbered from its start to before its end; null when there is no head, or a record is not
    /// in its segment (read while a grain is between writes, or lost).
    /// </summary>
    public ClientHistory? History(GrainId grain)
    {
        var head = Read<ClientHistory>(grain, "history");
        if (head is not { SegmentSize: > 0 })
        {
            return head;
        }

        for (var number = head.Start; number < head.End; number++)
        {
            var segment = Read<HistorySegment>(grain, $"history-{number / head.SegmentSize}");
            if (segment is null || number < segment.First || number - segment.First >= segment.Records.Count)
            {
                return null;
            }

            head.Records.Add(segment.Records[(int)(number - segment.First)]);
        }

        return head;
    }

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_entries.TryGetValue((grainId, stateName), out var entry))
        {
            grainState.State = Serializer.Deserialize<T>(entry.Data);
            grainState.ETag = entry.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = Serializer.SerializeToArray(grainState.State);
        var failed = FailWrites?.Invoke(stateName) == true;
        Writes.Enqueue(new StoredWrite(grainId, stateName, data.Length, failed));
        if (failed)
        {
            throw new IOException($"writes of {stateName} fail");
        }

        CheckETag(grainId, stateName, grainState.ETag);
        var etag = Guid.NewGuid().ToString("N");
        _entries[(grainId, stateName)] = (etag, data);
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        CheckETag(grainId, stateName, grainState.ETag);
        _entries.TryRemove((grainId, stateName), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private void CheckETag(GrainId grain, string state, string? etag)
    {
        var stored = _entries.TryGetValue((grain, state), out var entry) ? entry.ETag : null;
        if (stored != (string.IsNullOrEmpty(etag) ? null : etag))
        {
            throw new InconsistentStateException($"{state} of {grain}: stored ETag {stored ?? "none"}, given {etag ?? "none"}");
        }
    }
}

/// <summary>One write attempt seen by <see cref="RecordingGrainStorage"/>.</summary>
internal sealed record StoredWrite(GrainId Grain, string State, int Bytes, bool Failed);
