using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Polly;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Audit;
using ShieldCluster.Server.Storage;
using StackExchange.Redis;

namespace ShieldCluster.Server.Audit;

/// <summary>
/// The audit trail as a Redis stream (<c>{service}/audit</c>), trimmed to the retention; entries that
/// are alerts go, in the same transaction, to the webhook's outbox stream (<c>{service}/alerts</c>).
/// While Redis is unreachable entries wait in a bounded in-memory queue and are written in order
/// when it returns.
/// </summary>
public sealed partial class RedisAuditLog : IAuditLog, IAsyncDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly ResiliencePipeline _pipeline;
    private readonly AuditOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisAuditLog> _logger;
    private readonly Channel<SecurityEvent> _pending;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _flusher;
    private int _pendingCount;
    private long _appended;

    /// <summary>Creates the log and starts its flusher.</summary>
    public RedisAuditLog(IConnectionMultiplexer redis, ResiliencePipeline pipeline, IOptions<AuditOptions> options, IOptions<ClusterOptions> cluster, TimeProvider time, ILogger<RedisAuditLog> logger)
    {
        _redis = redis;
        _pipeline = pipeline;
        _options = options.Value;
        _time = time;
        _logger = logger;
        StreamKey = $"{cluster.Value.ServiceId}/audit";
        OutboxKey = $"{cluster.Value.ServiceId}/alerts";
        _pending = Channel.CreateUnbounded<SecurityEvent>(new UnboundedChannelOptions { SingleReader = false });
        _flusher = Task.Run(FlushLoopAsync);
    }

    /// <summary>The audit stream's key.</summary>
    public string StreamKey { get; }

    /// <summary>The alert outbox stream's key.</summary>
    public string OutboxKey { get; }

    /// <summary>Entries waiting for Redis.</summary>
    public int Pending => Volatile.Read(ref _pendingCount);

    /// <inheritdoc />
    public async ValueTask AppendAsync(SecurityEvent entry)
    {
        if (Pending == 0)
        {
            try
            {
                await _pipeline.ExecuteAsync(ct => new ValueTask(WriteAsync(entry)));
                return;
            }
            catch (Exception ex) when (ex is Polly.CircuitBreaker.BrokenCircuitException || ResilientGrainStorage.IsTransient(ex))
            {
                Log.Buffered(_logger, ex.GetType().Name);
            }
        }

        // Behind earlier entries that wait, so the trail keeps its order.
        if (Interlocked.Increment(ref _pendingCount) > _options.PendingCapacity && _pending.Reader.TryRead(out _))
        {
            Interlocked.Decrement(ref _pendingCount);
            Log.Dropped(_logger);
        }

        _pending.Writer.TryWrite(entry);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEntry>> ReadAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        var db = _redis.GetDatabase();
        RedisValue from = query.Since is { } since ? $"{Math.Max(0, since.ToUnixTimeMilliseconds())}-0" : "-";
        var found = new List<AuditEntry>();
        while (found.Count < query.Limit)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await _pipeline.ExecuteAsync(async _ => await db.StreamRangeAsync(StreamKey, from, "+", 500), cancellationToken);
            foreach (var item in page)
            {
                if (item.Id == from && found.Count > 0)
                {
                    continue;
                }

                var entry = AuditSerialization.FromFields(item.Values);
                if ((query.ClientId is null || entry.ClientId == query.ClientId) && (query.Since is not { } s || entry.At >= s))
                {
                    found.Add(new AuditEntry(item.Id!, entry));
                    if (found.Count == query.Limit)
                    {
                        break;
                    }
                }
            }

            if (page.Length < 500)
            {
                break;
            }

            // The next page starts after the last id read: XRANGE's exclusive form.
            from = $"({page[^1].Id}";
        }

        return found;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _stopping.CancelAsync();
        await _flusher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task WriteAsync(SecurityEvent entry)
    {
        var db = _redis.GetDatabase();
        var fields = AuditSerialization.ToFields(entry);
        if (AlertRules.IsAlert(entry))
        {
            var transaction = db.CreateTransaction();
            var audit = transaction.StreamAddAsync(StreamKey, fields);
            var outbox = transaction.StreamAddAsync(OutboxKey, fields);
            if (!await transaction.ExecuteAsync())
            {
                throw new RedisException("the audit transaction did not commit");
            }

            await Task.WhenAll(audit, outbox);
        }
        else
        {
            await db.StreamAddAsync(StreamKey, fields);
        }

        if (Interlocked.Increment(ref _appended) % 1000 == 1)
        {
            var minId = (_time.GetUtcNow() - _options.Retention).ToUnixTimeMilliseconds();
            await db.ExecuteAsync("XTRIM", StreamKey, "MINID", "~", minId.ToString(CultureInfo.InvariantCulture));
        }
    }

    private async Task FlushLoopAsync()
    {
        var delay = TimeSpan.FromMilliseconds(200);
        try
        {
            while (await _pending.Reader.WaitToReadAsync(_stopping.Token))
            {
                while (_pending.Reader.TryPeek(out var entry))
                {
                    try
                    {
                        await WriteAsync(entry);
                        _pending.Reader.TryRead(out _);
                        Interlocked.Decrement(ref _pendingCount);
                        delay = TimeSpan.FromMilliseconds(200);
                    }
                    catch (Exception ex) when (ResilientGrainStorage.IsTransient(ex))
                    {
                        await Task.Delay(delay, _time, _stopping.Token);
                        delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: what still waits is lost with the process, and counted in the log below.
            if (Pending > 0)
            {
                Log.LostAtStop(_logger, Pending);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Audit trail: Redis unreachable ({Reason}); entries wait in memory and are written in order when it returns")]
        public static partial void Buffered(ILogger logger, string reason);

        [LoggerMessage(2, LogLevel.Error, "Audit trail: the in-memory queue is full while Redis is unreachable; the oldest waiting entry was dropped")]
        public static partial void Dropped(ILogger logger);

        [LoggerMessage(3, LogLevel.Error, "Audit trail: {Count} entries were still waiting for Redis when the process stopped")]
        public static partial void LostAtStop(ILogger logger, int count);
    }
}
