using ShieldCluster.Grains.Audit;

namespace ShieldCluster.Server.Alerts;

/// <summary>The embedded default's outbox: in this process's memory (lost with it, as all its state is), bounded.</summary>
public sealed class MemoryAlertOutbox(TimeProvider time, TimeSpan retryAfter, int capacity = 10_000) : IAlertOutbox
{
    private readonly Lock _lock = new();
    private readonly List<(OutboxAlert Alert, DateTimeOffset Due)> _waiting = [];

    /// <summary>Queues an audit entry that is an alert.</summary>
    public void Add(AuditEntry entry)
    {
        lock (_lock)
        {
            if (_waiting.Count >= capacity)
            {
                _waiting.RemoveAt(0);
            }

            _waiting.Add((new OutboxAlert(entry.Id, entry.Event), time.GetUtcNow()));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<OutboxAlert>> NextAsync(int max, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var due = new List<OutboxAlert>();
            for (var i = 0; i < _waiting.Count && due.Count < max; i++)
            {
                if (_waiting[i].Due <= now)
                {
                    due.Add(_waiting[i].Alert);
                    _waiting[i] = (_waiting[i].Alert, now + retryAfter);
                }
            }

            return Task.FromResult<IReadOnlyList<OutboxAlert>>(due);
        }
    }

    /// <inheritdoc />
    public Task AckAsync(OutboxAlert alert, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _waiting.RemoveAll(w => w.Alert.Id == alert.Id);
        }

        return Task.CompletedTask;
    }
}
