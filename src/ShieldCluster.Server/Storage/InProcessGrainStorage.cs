using System.Buffers;
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
/// Nothing survives the process, as the embedded default says at start. Each state is guarded by a
/// lock of its own: reads, writes and clears are synchronous (their tasks complete at once).
/// </summary>
public sealed class InProcessGrainStorage : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), Entry> _states = new();
    private readonly DeepCopier? _copier;
    private readonly Serializer? _serializer;
    private readonly FreeArrays _free = new();

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

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
    /// generation of the collector on the way to the oldest. The arrays are reused: a write that
    /// fits the state's array overwrites it, and the array of a cleared (or outgrown) state is kept
    /// for the next state of about its size. A client's history moves on by new segments while the
    /// oldest are cleared, so under load the store allocates almost nothing; allocating a segment's
    /// 40 KB afresh at every write (20 MB per 5 s at 3,200 requests/s) made the collector run a
    /// collection of the oldest generation every few seconds.
    /// </summary>
    public InProcessGrainStorage(Serializer serializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        _serializer = serializer;
    }

    /// <summary>States held (and entries made for writes in progress).</summary>
    internal int Count => _states.Count;

    /// <summary>Bytes held in arrays kept for reuse (not holding any state).</summary>
    internal long FreeBytes => _free.Bytes;

    /// <summary>
    /// The stored copy of a state in the copying mode, itself (not to be changed), or null: for tests
    /// that read what a silo wrote after it stopped, when its copier is gone.
    /// </summary>
    internal T? StoredCopy<T>(string stateName, GrainId grainId)
        where T : class
    {
        if (_copier is null || !_states.TryGetValue((stateName, grainId), out var entry))
        {
            return null;
        }

        lock (entry)
        {
            return entry.ETag is null ? null : (T?)entry.State;
        }
    }

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_states.TryGetValue((stateName, grainId), out var entry))
        {
            lock (entry)
            {
                if (entry.ETag is { } etag)
                {
                    grainState.State = _serializer is not null
                        ? _serializer.Deserialize<T>(entry.Bytes.AsSpan(0, entry.Length))
                        : _copier!.Copy((T)entry.State!);
                    grainState.ETag = etag;
                    grainState.RecordExists = true;
                    return Task.CompletedTask;
                }
            }
        }

        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        ArrayBufferWriter<byte>? serialised = null;
        object? copy = null;
        if (_serializer is not null)
        {
            serialised = t_scratch ??= new ArrayBufferWriter<byte>();
            serialised.ResetWrittenCount();
            _serializer.Serialize(grainState.State, serialised);
        }
        else
        {
            copy = _copier!.Copy(grainState.State);
        }

        try
        {
            while (true)
            {
                var entry = _states.GetOrAdd(key, static _ => new Entry());
                lock (entry)
                {
                    if (entry.Removed)
                    {
                        // Cleared meanwhile, and out of the table: the write goes to a new entry.
                        continue;
                    }

                    if (entry.ETag is null && grainState.ETag is not null)
                    {
                        // A write with an ETag for a state that does not exist, refused below: the entry made for it goes again.
                        entry.Removed = true;
                        _states.TryRemove(new KeyValuePair<(string, GrainId), Entry>(key, entry));
                    }

                    Check(entry.ETag, grainState.ETag, stateName, grainId, "write");
                    if (serialised is not null)
                    {
                        var length = serialised.WrittenCount;
                        if (entry.Bytes is null || entry.Bytes.Length < length)
                        {
                            _free.Return(entry.Bytes);
                            entry.Bytes = _free.Rent(length);
                        }

                        serialised.WrittenSpan.CopyTo(entry.Bytes);
                        entry.Length = length;
                    }
                    else
                    {
                        entry.State = copy;
                    }

                    entry.ETag = Guid.NewGuid().ToString("N");
                    grainState.ETag = entry.ETag;
                    grainState.RecordExists = true;
                    return Task.CompletedTask;
                }
            }
        }
        finally
        {
            if (serialised is not null && serialised.Capacity > MaxScratchBytes)
            {
                // A rare large state: its scratch buffer is not kept on this thread.
                t_scratch = null;
            }
        }
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        if (_states.TryGetValue(key, out var entry))
        {
            lock (entry)
            {
                if (!entry.Removed && entry.ETag is not null)
                {
                    Check(entry.ETag, grainState.ETag, stateName, grainId, "clear");
                    entry.Removed = true;
                    entry.ETag = null;
                    entry.State = null;
                    _free.Return(entry.Bytes);
                    entry.Bytes = null;
                    _states.TryRemove(new KeyValuePair<(string, GrainId), Entry>(key, entry));
                }
            }
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private const int MaxScratchBytes = 1 << 20;

    private static void Check(string? stored, string? given, string stateName, GrainId grainId, string operation)
    {
        if (!string.Equals(stored, given, StringComparison.Ordinal))
        {
            throw new InconsistentStateException($"Version conflict ({operation}): state {stateName} of {grainId}", stored ?? "", given ?? "");
        }
    }

    /// <summary>One state: no state while <see cref="ETag"/> is null (never written, or a write refused); guarded by its own lock.</summary>
    private sealed class Entry
    {
        public string? ETag;
        public object? State;
        public byte[]? Bytes;
        public int Length;
        public bool Removed;
    }

    /// <summary>
    /// Arrays of cleared or outgrown states, by size (rounded up to a sixteenth of the next power of
    /// two, at least 64 bytes: a 40 KB segment's array is 44 KB, a 100-byte head's 128 bytes), for the
    /// next state of about their size; at most 64 MiB of them (more goes to the collector). New arrays
    /// go on the pinned object heap: kept for long and reused, they are never moved by a compaction.
    /// </summary>
    private sealed class FreeArrays
    {
        private const long MaxBytes = 64L << 20;
        private readonly ConcurrentDictionary<int, ConcurrentStack<byte[]>> _bySize = new();
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public byte[] Rent(int length)
        {
            var size = Rounded(length);
            if (_bySize.TryGetValue(size, out var free) && free.TryPop(out var array))
            {
                Interlocked.Add(ref _bytes, -array.Length);
                return array;
            }

            return GC.AllocateUninitializedArray<byte>(size, pinned: true);
        }

        public void Return(byte[]? array)
        {
            if (array is null)
            {
                return;
            }

            if (Interlocked.Add(ref _bytes, array.Length) > MaxBytes)
            {
                Interlocked.Add(ref _bytes, -array.Length);
                return;
            }

            _bySize.GetOrAdd(array.Length, static _ => new ConcurrentStack<byte[]>()).Push(array);
        }

        private static int Rounded(int length)
        {
            var step = Math.Max(64, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, length)) / 16);
            return (length + step - 1) / step * step;
        }
    }
}
