using System.Globalization;
using ShieldCluster.Server.Audit;
using StackExchange.Redis;

namespace ShieldCluster.Server.Alerts;

/// <summary>
/// The outbox as a Redis stream read through a consumer group: every silo delivers, an alert is
/// deleted once acknowledged, and one a silo took but never acknowledged (a failed delivery, or
/// a silo that died) is claimed again after the retry delay. Survives restarts of every silo.
/// </summary>
public sealed class RedisAlertOutbox(IConnectionMultiplexer redis, RedisAuditLog audit, string consumer, TimeSpan retryAfter) : IAlertOutbox
{
    private const string Group = "webhook";
    private bool _groupReady;

    /// <inheritdoc />
    public async Task<IReadOnlyList<OutboxAlert>> NextAsync(int max, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        await EnsureGroupAsync(db);

        // First what was taken and never acknowledged, then what is new.
        var claimed = await db.StreamAutoClaimAsync(audit.OutboxKey, Group, consumer, (long)retryAfter.TotalMilliseconds, "0-0", max);
        var entries = claimed.ClaimedEntries.Where(e => !e.IsNull).ToArray();
        if (entries.Length == 0)
        {
            entries = await db.StreamReadGroupAsync(audit.OutboxKey, Group, consumer, ">", max);
        }

        return [.. entries.Select(e => new OutboxAlert(e.Id!, AuditSerialization.FromFields(e.Values)))];
    }

    /// <inheritdoc />
    public async Task AckAsync(OutboxAlert alert, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        await db.StreamAcknowledgeAsync(audit.OutboxKey, Group, alert.Id);
        await db.StreamDeleteAsync(audit.OutboxKey, [alert.Id]);
    }

    private async Task EnsureGroupAsync(IDatabase db)
    {
        if (_groupReady)
        {
            return;
        }

        try
        {
            // From the start of the stream: alerts queued before any silo read them are delivered too.
            await db.StreamCreateConsumerGroupAsync(audit.OutboxKey, Group, "0-0", createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another silo made it.
        }

        _groupReady = true;
    }

    /// <summary>A consumer name unique to this process.</summary>
    public static string ConsumerName() => string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}");
}
