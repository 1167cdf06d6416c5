using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace ShieldCluster.Server.Storage;

/// <summary>
/// The embedded default's grain storage: each state kept in this process, as a deep copy of its
/// object or serialised, under an ETag checked as a durable store checks it (a write or clear whose ETag is not the
/// stored one is refused with <see cref="InconsistentStateException"/>). Orleans' memory storage
/// serialises every write and keeps the bytes in a grain: a message, a serialisation and a copy of
/// the bytes per write, and tens of megabytes a minute of long-lived garbage when clients' histories
/// are rewritten under load. Here a write copies the object (<see cref="InProcessGrainStorage(DeepCopier)"/>),
/// or serialises it into one array (<see cref="InProcessGrainStorage(Serializer)"/>), with no message.
/// Nothing survives the process, as the embedded default says at start.
/// </summary>
public sealed class InProcessGrainStorage : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), Entry> _states = new();
    private readonly DeepCopier? _copier;
    private readonly Serializer? _serializer;

    /// <summary>
    /// A store that keeps a deep copy of each state's object (immutable objects, such as history
    /// records, are shared, not copied): cheap for states written and read often.
    /// </summary>
    public InProcessGrainStorage(DeepCopier copier)
    {
        ArgumentNullException.ThrowIfNull(copier);
        _copier = copier;
    }

    /// <summary>
    /// A store that keeps each state serialised (Orleans' binary format), one array per state: for
    /// the clients' history segments, whose records would otherwise live on here as five objects
    /// each (the client grain keeps its own history in arrays it reuses), each taken through every
    /// generation of the collector on the way to the oldest.
    /// </summary>
    public InProcessGrainStorage(Serializer serializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        _serializer = serializer;
    }

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_states.TryGetValue((stateName, grainId), out var entry))
        {
            grainState.State = _serializer is not null ? _serializer.Deserialize<T>((byte[])entry.State) : _copier!.Copy((T)entry.State);
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
        var written = new Entry(Guid.NewGuid().ToString("N"), _serializer is not null ? Serialise(grainState.State) : _copier!.Copy(grainState.State)!);
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

    /// <summary>
    /// The state serialised into an array on the pinned object heap: kept there, it is never copied
    /// from generation to generation as an array of the small-object heap would be (a client's
    /// segments, rewritten as they fill, made megabytes of that a second), and is freed by the
    /// background collections of the oldest generation.
    /// </summary>
    private byte[] Serialise<T>(T state)
    {
        var serialised = _serializer!.SerializeToArray(state);
        var kept = GC.AllocateUninitializedArray<byte>(serialised.Length, pinned: true);
        serialised.CopyTo(kept, 0);
        return kept;
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
