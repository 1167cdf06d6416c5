using Microsoft.Extensions.Logging;
using Orleans.Storage;
using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Clients;

/// <summary>
/// The stored records of one segment of a client's query history: the record numbered n is in
/// segment n / <see cref="ClientHistory.SegmentSize"/>, stored as the grain state
/// <c>history-{segment}</c> beside the head (<see cref="ClientHistory"/>).
/// </summary>
[GenerateSerializer, Alias("ShieldCluster.HistorySegment")]
public sealed class HistorySegment
{
    /// <summary>
    /// Records per segment in the format this release writes. A batch-1 record of the demo model
    /// (Fashion-MNIST: a 784-byte thumbnail and a fingerprint of 50 hashes, the default until 25; 200 bytes less now) serialises to
    /// about 1,300 bytes with Orleans' serializer (measured: 32 served requests stored 41,460 bytes
    /// in Redis; 32 records with random thumbnails and full fingerprints, 41,489), so a full
    /// segment stays at half the 85,000 bytes from which buffers land on the large-object heap.
    /// Batched records are larger in proportion to their items (the history is bounded in items
    /// by <c>HistoryCapacity</c>).
    /// </summary>
    public const int Size = 32;

    /// <summary>The sequence number of <see cref="Records"/>' first record.</summary>
    [Id(0)] public long First { get; set; }

    /// <summary>The segment's records from <see cref="First"/> on, oldest first.</summary>
    [Id(1)] public List<QueryRecord> Records { get; set; } = [];
}

/// <summary>How writing a client's history segments went.</summary>
internal enum SegmentWrite
{
    /// <summary>Every segment was written.</summary>
    Written,

    /// <summary>A write failed (the store could not be reached, say).</summary>
    Failed,

    /// <summary>A write was refused for its ETag: the stored segment is not the one this activation last wrote.</summary>
    Conflict,
}

/// <summary>
/// A client grain's history segments in its history store: which changed since they were last
/// written, their ETags, and reading, writing and clearing them. Records are appended at the end
/// and dropped at the front, so a flush writes the segment being filled (again, until it is full)
/// and full segments once; a record dropped from the middle (expired out of order, or lost with
/// its segment) moves the records before it up in the numbering, and their segments are written again.
/// </summary>
internal sealed partial class HistorySegments(IGrainStorage storage, GrainId grainId, string clientId, ILogger logger)
{
    // What is kept of a stored segment once it is read or written: its ETag, not its records (the
    // grain's history holds those, and copies taken for a write would otherwise live on here).
    private static readonly HistorySegment Released = new();

    private readonly Dictionary<long, GrainState<HistorySegment>> _stored = [];
    private readonly HashSet<long> _dirty = [];

    /// <summary>The grain state name of <paramref name="segment"/>.</summary>
    public static string StateName(long segment) => $"history-{segment}";

    /// <summary>Marks the segments that hold the records numbered <paramref name="first"/> to <paramref name="last"/> (inclusive) to be written.</summary>
    public void Mark(long first, long last)
    {
        for (var segment = first / HistorySegment.Size; segment <= last / HistorySegment.Size; segment++)
        {
            _dirty.Add(segment);
        }
    }

    /// <summary>
    /// Reads the segments of the records numbered from <paramref name="start"/> to before
    /// <paramref name="end"/>, stored <paramref name="size"/> to a segment, and returns those
    /// records, oldest first, with the number of the last one not found (below
    /// <paramref name="start"/> when every one was): a segment expired or never written loses only
    /// its own records. A store that cannot be read fails the load.
    /// </summary>
    public async Task<(List<QueryRecord> Records, long LastMissing)> LoadAsync(long start, long end, int size)
    {
        var records = new List<QueryRecord>((int)Math.Max(0, end - start));
        var lastMissing = start - 1;
        if (end <= start)
        {
            return (records, lastMissing);
        }

        var first = start / size;
        var segments = await Task.WhenAll(Enumerable.Range(0, (int)((end - 1) / size - first + 1)).Select(async i =>
        {
            var stored = new GrainState<HistorySegment>();
            await storage.ReadStateAsync(StateName(first + i), grainId, stored);
            return stored;
        }));
        for (var i = 0; i < segments.Length; i++)
        {
            _stored[first + i] = segments[i];
        }

        for (var number = start; number < end; number++)
        {
            var segment = segments[(number / size) - first].State;
            var index = number - (segment?.First ?? 0);
            if (segment is not null && index >= 0 && index < segment.Records.Count)
            {
                records.Add(segment.Records[(int)index]);
            }
            else
            {
                lastMissing = number;
            }
        }

        foreach (var segment in segments)
        {
            segment.State = Released;
        }

        if (records.Count < end - start)
        {
            Log.RecordsMissing(logger, clientId, end - start - records.Count);
        }

        return (records, lastMissing);
    }

    /// <summary>
    /// The marked segments' records, copied out of <paramref name="history"/> for
    /// <see cref="WriteAsync"/>, and the marks cleared. Segments wholly below the history's start
    /// have nothing to write: <see cref="ClearBelowAsync"/> removes them.
    /// </summary>
    public List<HistorySegment> TakeMarked(HistoryBuffer history)
    {
        var (start, end) = (history.Start, history.End);
        var taken = new List<HistorySegment>(_dirty.Count);
        foreach (var segment in _dirty.Order())
        {
            var first = Math.Max(segment * HistorySegment.Size, start);
            var last = Math.Min((segment + 1) * HistorySegment.Size, end);
            if (first < last)
            {
                taken.Add(new HistorySegment { First = first, Records = history.ToRecords((int)(first - start), (int)(last - first)) });
            }
        }

        _dirty.Clear();
        return taken;
    }

    /// <summary>
    /// Writes <paramref name="segments"/> one at a time, until one fails. That one and those after
    /// it are marked again, to be written at the next flush with what they hold then. A write
    /// refused for its ETag (<see cref="SegmentWrite.Conflict"/>: the key expired, or was left by an
    /// activation whose head did not land, or cleared with its client, or another activation of the
    /// client wrote it) takes the stored ETag, so the next write replaces it.
    /// </summary>
    public async Task<SegmentWrite> WriteAsync(List<HistorySegment> segments)
    {
        for (var i = 0; i < segments.Count; i++)
        {
            var number = segments[i].First / HistorySegment.Size;
            if (!_stored.TryGetValue(number, out var stored))
            {
                stored = _stored[number] = new GrainState<HistorySegment>();
            }

            stored.State = segments[i];
            try
            {
                await storage.WriteStateAsync(StateName(number), grainId, stored);
            }
            catch (Exception ex)
            {
                Log.WriteFailed(logger, ex, clientId, number);
                foreach (var unwritten in segments.Skip(i))
                {
                    _dirty.Add(unwritten.First / HistorySegment.Size);
                }

                if (ex is InconsistentStateException)
                {
                    await TakeStoredETagAsync(number, stored);
                    return SegmentWrite.Conflict;
                }

                return SegmentWrite.Failed;
            }
            finally
            {
                stored.State = Released;
            }
        }

        return SegmentWrite.Written;
    }

    /// <summary>
    /// Clears the stored segments wholly below <paramref name="start"/>, once a head starting there
    /// is written: Redis would expire them after the retention anyway, other stores keep them. One
    /// that fails stays for the next time.
    /// </summary>
    public async Task ClearBelowAsync(long start)
    {
        foreach (var (number, stored) in _stored.Where(s => (s.Key + 1) * HistorySegment.Size <= start).ToList())
        {
            try
            {
                if (stored.RecordExists)
                {
                    await storage.ClearStateAsync(StateName(number), grainId, stored);
                }

                _stored.Remove(number);
            }
            catch (Exception ex)
            {
                Log.ClearFailed(logger, ex, clientId, number);
            }
        }
    }

    /// <summary>Clears every stored segment this activation read or wrote (the client is deleted) and forgets the marks; a failure throws.</summary>
    public async Task ClearAsync()
    {
        _dirty.Clear();
        foreach (var (number, stored) in _stored.Where(s => s.Value.RecordExists))
        {
            await storage.ClearStateAsync(StateName(number), grainId, stored);
        }
    }

    private async Task TakeStoredETagAsync(long number, GrainState<HistorySegment> stored)
    {
        var current = new GrainState<HistorySegment>();
        try
        {
            await storage.ReadStateAsync(StateName(number), grainId, current);
            stored.ETag = current.ETag;
            stored.RecordExists = current.RecordExists;
        }
        catch (Exception ex)
        {
            // The next write is refused again, and tries this again.
            Log.WriteFailed(logger, ex, clientId, number);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(5, LogLevel.Warning, "Client {ClientId}: writing history segment {Segment} failed; retried on the next flush")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string clientId, long segment);

        [LoggerMessage(6, LogLevel.Debug, "Client {ClientId}: clearing history segment {Segment}, now below the history's start, failed; retried after the next write")]
        public static partial void ClearFailed(ILogger logger, Exception exception, string clientId, long segment);

        [LoggerMessage(7, LogLevel.Debug, "Client {ClientId}: {Records} records of the stored history were not found (their segments expired or were never written); the rest loaded")]
        public static partial void RecordsMissing(ILogger logger, string clientId, long records);
    }
}
