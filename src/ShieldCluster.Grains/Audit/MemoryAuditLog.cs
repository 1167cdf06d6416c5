using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Audit;

/// <summary>
/// The embedded default's audit trail: the newest <c>capacity</c> entries of this process, kept for
/// <c>retention</c>; lost when the process stops (as all of the embedded default's state is).
/// </summary>
public sealed class MemoryAuditLog(int capacity, TimeSpan retention, TimeProvider time, Action<AuditEntry>? onAlert = null) : IAuditLog
{
    private readonly Queue<AuditEntry> _entries = new();
    private readonly Lock _lock = new();
    private long _next;

    /// <inheritdoc />
    public ValueTask AppendAsync(SecurityEvent entry)
    {
        AuditEntry stored;
        lock (_lock)
        {
            stored = new AuditEntry((++_next).ToString("D20", System.Globalization.CultureInfo.InvariantCulture), entry);
            _entries.Enqueue(stored);
            Trim();
        }

        if (AlertRules.IsAlert(entry))
        {
            onAlert?.Invoke(stored);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEntry>> ReadAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Trim();
            IReadOnlyList<AuditEntry> found = [.. _entries
                .Where(e => (query.Since is not { } since || e.Event.At >= since) && (query.ClientId is null || e.Event.ClientId == query.ClientId))
                .Take(query.Limit)];
            return Task.FromResult(found);
        }
    }

    private void Trim()
    {
        var cutoff = time.GetUtcNow() - retention;
        while (_entries.Count > capacity || (_entries.TryPeek(out var oldest) && oldest.Event.At < cutoff))
        {
            _entries.Dequeue();
        }
    }
}
