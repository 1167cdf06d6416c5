using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Clients;

/// <summary>
/// A client grain's query history in memory: records and their items as structs in two rings, each
/// item's thumbnail and fingerprint copied into arrays the ring owns and reuses. A full history
/// takes in a record by overwriting the arrays of the items it drops, so in steady state it
/// allocates nothing: the records a request allocates die young, instead of living on in a
/// 1,000-record history until the collector has promoted each of their five objects through every
/// generation (the protected server's open-loop tail was mostly those collections). Records go out
/// (<see cref="ToRecords"/>, <see cref="ItemsFrom"/>) as copies: the arrays here are overwritten
/// as the history moves on. Records are numbered from <see cref="Start"/> as they arrive.
/// </summary>
/// <param name="expectedItems">
/// The items the history holds at most when its records are single items (its cap, and one more
/// while a record waits to be dropped): the item ring doubles up to it, and past it grows only to
/// what is needed. Every slot of the ring is used in turn and keeps its arrays, so a ring doubled
/// past what the history holds would keep twice the arrays it needs. 0: doubling only.
/// </param>
internal sealed class HistoryBuffer(int expectedItems = 0)
{
    private RecordSlot[] _records = [];
    private int _recordHead;
    private ItemSlot[] _items = [];
    private int _itemHead;
    private int _itemCount;

    // The sequence number (over this buffer's life) of the item at _itemHead: a record's items are
    // found from its FirstItem without summing the records before it.
    private long _itemBase;

    // The (model, version) pairs of the records, each kept once: the strings of each request are
    // new objects, and would live on in the history as the arrays would.
    private readonly List<(string Model, string Version)> _versions = [];

    /// <summary>The sequence number of the first record.</summary>
    public long Start { get; private set; }

    /// <summary>The records held.</summary>
    public int Count { get; private set; }

    /// <summary>The sequence number after the last record.</summary>
    public long End => Start + Count;

    /// <summary>The items of every record held.</summary>
    public int Items => _itemCount;

    /// <summary>The item slots (each, once used, with its arrays).</summary>
    internal int ItemSlots => _items.Length;

    /// <summary>Appends <paramref name="record"/>, copying its items' arrays.</summary>
    public void Add(QueryRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var items = record.Items;
        Reserve(ref _records, ref _recordHead, Count + 1, 0);
        Reserve(ref _items, ref _itemHead, _itemCount + items.Count, expectedItems);
        ref var slot = ref _records[(_recordHead + Count) % _records.Length];
        slot.At = record.At;
        slot.Version = VersionIndex(record.Model, record.Version);
        slot.FirstItem = _itemBase + _itemCount;
        slot.Items = items.Count;
        Count++;
        // Indexed: an interface's enumerator would be the one allocation per append.
        for (var i = 0; i < items.Count; i++)
        {
            _items[(_itemHead + _itemCount) % _items.Length].Set(items[i]);
            _itemCount++;
        }
    }

    /// <summary>Drops the first <paramref name="count"/> records (their arrays stay for the records that follow); the numbering starts later by as many.</summary>
    public void RemoveFirst(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        if (count == 0)
        {
            return;
        }

        var next = count == Count ? _itemBase + _itemCount : _records[(_recordHead + count) % _records.Length].FirstItem;
        var items = (int)(next - _itemBase);
        _itemHead = (_itemHead + items) % Math.Max(1, _items.Length);
        _itemCount -= items;
        _itemBase = next;
        _recordHead = (_recordHead + count) % _records.Length;
        Count -= count;
        Start += count;
    }

    /// <summary>Replaces the history with <paramref name="records"/>, the first numbered <paramref name="start"/>.</summary>
    public void Reset(IEnumerable<QueryRecord> records, long start)
    {
        ArgumentNullException.ThrowIfNull(records);
        _recordHead = 0;
        Count = 0;
        _itemHead = 0;
        _itemCount = 0;
        _itemBase = 0;
        _versions.Clear();
        Start = start;
        foreach (var record in records)
        {
            Add(record);
        }
    }

    /// <summary>When the record at <paramref name="index"/> was served.</summary>
    public DateTimeOffset At(int index) => Record(index).At;

    /// <summary>The items of the record at <paramref name="index"/>.</summary>
    public int ItemsOf(int index) => Record(index).Items;

    /// <summary>Copies of the <paramref name="count"/> records from <paramref name="index"/>, oldest first.</summary>
    public List<QueryRecord> ToRecords(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index + count, Count);
        var records = new List<QueryRecord>(count);
        for (var r = index; r < index + count; r++)
        {
            var slot = Record(r);
            var items = new QueryItem[slot.Items];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = Item(slot.FirstItem + i).ToItem();
            }

            var (model, version) = _versions[slot.Version];
            records.Add(new QueryRecord(slot.At, model, version, items));
        }

        return records;
    }

    /// <summary>Copies of the items of the records from <paramref name="index"/> on, in order.</summary>
    public IEnumerable<QueryItem> ItemsFrom(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, Count);
        var first = index == Count ? _itemBase + _itemCount : Record(index).FirstItem;
        for (var sequence = first; sequence < _itemBase + _itemCount; sequence++)
        {
            yield return Item(sequence).ToItem();
        }
    }

    private ref readonly RecordSlot Record(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return ref _records[(_recordHead + index) % _records.Length];
    }

    private ref readonly ItemSlot Item(long sequence) => ref _items[(int)((_itemHead + (sequence - _itemBase)) % _items.Length)];

    private int VersionIndex(string model, string version)
    {
        for (var i = 0; i < _versions.Count; i++)
        {
            if (_versions[i].Model == model && _versions[i].Version == version)
            {
                return i;
            }
        }

        _versions.Add((model, version));
        return _versions.Count - 1;
    }

    /// <summary>
    /// Room for <paramref name="needed"/> slots in <paramref name="ring"/>: a larger ring (twice as
    /// large, up to <paramref name="expected"/> when that is set, and at least as large as needed)
    /// with the slots in order from index 0, the free ones too (their arrays are reused), and
    /// <paramref name="head"/> 0.
    /// </summary>
    private static void Reserve<T>(ref T[] ring, ref int head, int needed, int expected)
    {
        if (needed <= ring.Length)
        {
            return;
        }

        var size = Math.Max(4, 2 * ring.Length);
        if (expected > 0)
        {
            size = Math.Min(size, expected);
        }

        var grown = new T[Math.Max(needed, size)];
        var tail = ring.Length - head;
        Array.Copy(ring, head, grown, 0, tail);
        Array.Copy(ring, 0, grown, tail, head);
        ring = grown;
        head = 0;
    }

    private struct RecordSlot
    {
        public DateTimeOffset At;
        public int Version;
        public long FirstItem;
        public int Items;
    }

    private struct ItemSlot
    {
        private ulong _digest;
        private int _label;
        private float _confidence;
        private bool? _squeezeFlagged;
        private byte[]? _thumbnail;
        private int _thumbnailLength;
        private ulong[]? _fingerprint;
        private int _fingerprintLength;

        /// <summary>Holds <paramref name="item"/>: its arrays copied into this slot's own, grown when too small.</summary>
        public void Set(QueryItem item)
        {
            _digest = item.Digest;
            _label = item.Label;
            _confidence = item.Confidence;
            _squeezeFlagged = item.SqueezeFlagged;
            _thumbnailLength = item.Thumbnail.Length;
            if (_thumbnail is null || _thumbnail.Length < _thumbnailLength)
            {
                _thumbnail = new byte[_thumbnailLength];
            }

            item.Thumbnail.CopyTo(_thumbnail, 0);
            _fingerprintLength = item.Fingerprint?.Length ?? -1;
            if (item.Fingerprint is { } fingerprint)
            {
                if (_fingerprint is null || _fingerprint.Length < fingerprint.Length)
                {
                    _fingerprint = new ulong[fingerprint.Length];
                }

                fingerprint.CopyTo(_fingerprint, 0);
            }
        }

        /// <summary>A copy of the item held.</summary>
        public readonly QueryItem ToItem() => new(
            _digest,
            _label,
            _confidence,
            _thumbnail.AsSpan(0, _thumbnailLength).ToArray(),
            _fingerprintLength < 0 ? null : _fingerprint.AsSpan(0, _fingerprintLength).ToArray(),
            _squeezeFlagged);
    }
}
