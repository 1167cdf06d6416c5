namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// The digests of a client's most recent queries, to recognise identical resends (retries), which
/// are never evidence of an attack. Bounded: the oldest digest is forgotten past the capacity.
/// </summary>
public sealed class RecentDigests(int capacity)
{
    // Grown as digests arrive: a client that sends a few queries costs a few entries, not the capacity.
    private readonly Queue<ulong> _order = new();
    private readonly Dictionary<ulong, int> _counts = [];

    /// <summary>Records <paramref name="digest"/>; true if it was already among the recent ones.</summary>
    public bool SeenBefore(ulong digest)
    {
        var seen = _counts.TryGetValue(digest, out var count);
        _counts[digest] = count + 1;
        _order.Enqueue(digest);
        if (_order.Count > capacity)
        {
            var oldest = _order.Dequeue();
            if (--_counts[oldest] == 0)
            {
                _counts.Remove(oldest);
            }
        }

        return seen;
    }
}
