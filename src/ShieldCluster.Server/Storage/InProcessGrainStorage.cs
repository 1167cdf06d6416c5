using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace ShieldCluster.Server.Storage;

/// <summary>
/// The embedded default's grain storage: each state kept in this process as a deep copy of its
/// object, under an ETag checked as a durable store checks it (a write or clear whose ETag is not the
/// stored one is refused with <see cref="InconsistentStateException"/>). Orleans' memory storage
/// serialises every write and keeps the bytes in a grain: a message, a serialisation and a copy of
/// the bytes per write, and tens of megabytes a minute of long-lived garbage when clients' histories
/// are rewritten under load. Here a write copies the object only (a client's history records are
/// immutable, so a segment's copy is a new list of the same records). Nothing survives the process,
/// as the embedded default says at start.
/// </summary>
public sealed class InProcessGrainStorage(DeepCopier copier) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), Entry> _states = new();

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_states.TryGetValue((stateName, grainId), out var entry))
        {
            grainState.State = copier.Copy((T)entry.State);
            grainState.ETag = entry.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        var written = new Entry(Guid.NewGuid().ToString("N"), copier.Copy(grainState.State)!);
        while (true)
        {
            if (_states.TryGetValue(key, out var current))
            {
                Check(current.ETag, grainState.ETag, stateName, grainId, "write");
                if (_states.TryUpdate(key, written, current))
                {
                    break;
                }
            }
            else
            {
                Check(null, grainState.ETag, stateName, grainId, "write");
                if (_states.TryAdd(key, written))
                {
                    break;
                }
            }
        }

        grainState.ETag = written.ETag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        if (_states.TryGetValue(key, out var current))
        {
            Check(current.ETag, grainState.ETag, stateName, grainId, "clear");
            _states.TryRemove(new KeyValuePair<(string, GrainId), Entry>(key, current));
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static void Check(string? stored, string? given, string stateName, GrainId grainId, string operation)
    {
        if (!string.Equals(stored, given, StringComparison.Ordinal))
        {
            throw new InconsistentStateException($"Version conflict ({operation}): state {stateName} of {grainId}", stored ?? "", given ?? "");
        }
    }

    private sealed record Entry(string ETag, object State);
}
