using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// The cluster-wide Blacklight index, seen from one silo: served requests' fingerprints are queued
/// here (off the response path) and checked in batches, one call per shard grain per batch, however
/// many requests the batch holds. While a batch is out, the next one gathers, so the batches grow
/// with the load and the number of grain calls does not; under a light load the loop waits
/// <see cref="DetectionOptions.CrossClientGatherDelay"/> for more before it checks. For each item
/// the shards' counts are summed per earlier query of another client; an item matches when its best
/// such query shares more than the match threshold and the content is not popular (sent by
/// <see cref="DetectionOptions.PopularClients"/> or more clients; identical inputs never match).
/// A client's grain hears of its items when some matched, with the count of its items checked since
/// its last report, and every few seconds otherwise, so its window of checked items stays current
/// without a call per request.
/// </summary>
/// <remarks>
/// The queue is bounded: when lookups fall behind (a burst beyond what the shards can take), new
/// queries skip the cluster-wide check, counted in <c>shield_crossclient_skipped_total</c>; each
/// client's own detectors still see every query. The lag between a query and its cross-client
/// evidence is one batch and at most the gather delay (milliseconds).
/// </remarks>
public sealed partial class CrossClientIndex : IAsyncDisposable
{
    private const int MaxBatchItems = 512;

    // Requests queued that make a batch worth checking without waiting for more.
    private const int GatherEnough = 64;
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(2);

    private readonly IGrainFactory _grains;
    private readonly IFingerprintShardGrain[] _shards;
    private readonly DetectionOptions _options;
    private readonly ILogger<CrossClientIndex> _logger;
    private readonly Telemetry.ShieldMetrics _metrics;
    private readonly Channel<Pending> _queue;
    private readonly ConcurrentDictionary<string, int> _unreported = new(StringComparer.Ordinal);
    private readonly CrossClientMatches.Workspace _matching = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _startLock = new();
    private Task? _loop;

    /// <summary>Creates the index front end; its batching loop starts with the first query.</summary>
    public CrossClientIndex(IGrainFactory grains, IOptions<DetectionOptions> detection, Telemetry.ShieldMetrics metrics, ILogger<CrossClientIndex> logger)
    {
        _grains = grains;
        _metrics = metrics;
        _options = detection.Value;
        _logger = logger;

        // Resolved once: a grain reference is immutable, and resolving one per call costs a type lookup.
        _shards = [.. Enumerable.Range(0, _options.CrossClientShards).Select(s => grains.GetGrain<IFingerprintShardGrain>(s))];
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(Math.Max(1, _options.CrossClientQueue))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Queues a served request's items for the cluster-wide check; never waits.</summary>
    public void Enqueue(string clientId, QueryRecord record)
    {
        EnsureStarted();
        if (!_queue.Writer.TryWrite(new Pending(clientId, record)))
        {
            _metrics.CrossClientSkipped.Inc(record.Items.Count);
        }
    }

    /// <summary>Checks one batch: looks up and records every item, then reports to the clients' grains.</summary>
    private async Task CheckAsync(List<(string ClientId, QueryRecord Record)> batch)
    {
        var shards = _options.CrossClientShards;

        // The batch flat: every item's client, digest and request (the same clients and digests go
        // to every shard), then each shard's share of every fingerprint, in two passes (count, then
        // fill exact arrays). A hash's shard is its value mod the shard count, as every silo splits.
        var total = 0;
        var hashes = 0;
        foreach (var (_, record) in batch)
        {
            foreach (var item in record.Items)
            {
                total++;
                hashes += item.Fingerprint?.Length ?? 0;
            }
        }

        var clients = new string[total];
        var digests = new ulong[total];
        var requests = new int[total];
        var shardOf = ArrayPool<ushort>.Shared.Rent(hashes);
        var counts = new int[shards];
        var next = 0;
        var at = 0;
        for (var r = 0; r < batch.Count; r++)
        {
            foreach (var item in batch[r].Record.Items)
            {
                clients[next] = batch[r].ClientId;
                digests[next] = item.Digest;
                requests[next++] = r;
                foreach (var hash in item.Fingerprint ?? [])
                {
                    var shard = (int)(hash % (ulong)shards);
                    shardOf[at++] = (ushort)shard;
                    counts[shard]++;
                }
            }
        }

        var ends = new int[shards][];
        var shares = new ulong[shards][];
        var filled = new int[shards];
        for (var s = 0; s < shards; s++)
        {
            ends[s] = new int[total];
            shares[s] = new ulong[counts[s]];
        }

        next = 0;
        at = 0;
        foreach (var (_, record) in batch)
        {
            foreach (var item in record.Items)
            {
                foreach (var hash in item.Fingerprint ?? [])
                {
                    var shard = shardOf[at++];
                    shares[shard][filled[shard]++] = hash;
                }

                for (var s = 0; s < shards; s++)
                {
                    ends[s][next] = filled[s];
                }

                next++;
            }
        }

        ArrayPool<ushort>.Shared.Return(shardOf);

        // One call per shard carries the whole batch; a shard answers for the clients of each query.
        var calls = new Task<ShardAnswer>[shards];
        for (var s = 0; s < shards; s++)
        {
            calls[s] = _shards[s].LookupAndAddAsync(new ShardBatch(clients, digests, ends[s], shares[s]));
        }

        var answers = await Task.WhenAll(calls);
        var matches = CrossClientMatches.Find(digests, [.. answers.Select(a => a.Hits)], _options.Blacklight.MatchThreshold, _options.PopularClients, _matching);

        var perRequest = new (int Matched, SortedSet<string>? Others)[batch.Count];
        for (var query = 0; query < matches.Length; query++)
        {
            if (matches[query] is not { } near)
            {
                continue;
            }

            ref var request = ref perRequest[requests[query]];
            request.Matched++;
            request.Others ??= new SortedSet<string>(StringComparer.Ordinal);
            request.Others.UnionWith(near);
        }

        // Per client (a batch can hold several requests of one client): report matches now.
        var reports = new Dictionary<string, (int Matched, int Items, SortedSet<string> Others)>(StringComparer.Ordinal);
        for (var r = 0; r < batch.Count; r++)
        {
            var (clientId, record) = batch[r];
            var (matched, others) = perRequest[r];
            if (matched == 0)
            {
                _unreported.AddOrUpdate(clientId, record.Items.Count, (_, n) => n + record.Items.Count);
                continue;
            }

            if (!reports.TryGetValue(clientId, out var current))
            {
                current = (0, 0, new SortedSet<string>(StringComparer.Ordinal));
            }

            current.Others.UnionWith(others!);
            reports[clientId] = (current.Matched + matched, current.Items + record.Items.Count, current.Others);
        }

        var reportCalls = new List<Task>(reports.Count);
        foreach (var (clientId, (matched, items, others)) in reports)
        {
            // Items checked earlier without a match count in the client's window before these.
            var earlier = _unreported.TryRemove(clientId, out var n) ? n : 0;
            reportCalls.Add(ReportAsync(clientId, matched, earlier + items, [.. others.Take(5)]));
        }

        await Task.WhenAll(reportCalls);
    }

    /// <summary>Reports every client's items checked without a match since its last report.</summary>
    private async Task SweepAsync()
    {
        var calls = new List<Task>();
        foreach (var clientId in _unreported.Keys)
        {
            if (_unreported.TryRemove(clientId, out var items) && items > 0)
            {
                calls.Add(ReportAsync(clientId, 0, items, []));
            }
        }

        await Task.WhenAll(calls);
    }

    /// <summary>
    /// Stops the lookups: requests enqueued after are not looked up, and what the queue holds is
    /// dropped (the cross-client evidence lives in memory, in the shards and the client grains, and
    /// goes with them). Called when the silo begins to stop, so that no report reaches a client
    /// grain while it deactivates (see <see cref="FrontEndShutdown"/>). Idempotent.
    /// </summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        if (Volatile.Read(ref _loop) is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task ReportAsync(string clientId, int matched, int items, IReadOnlyList<string> others)
    {
        try
        {
            await _grains.GetGrain<IClientGrain>(clientId).ReportCrossClientMatchesAsync(matched, items, others);
        }
        catch (Exception ex)
        {
            Log.ReportFailed(_logger, ex, clientId);
        }
    }

    private void EnsureStarted()
    {
        if (_loop is not null)
        {
            return;
        }

        lock (_startLock)
        {
            _loop ??= Task.Run(RunAsync);
        }
    }

    private async Task RunAsync()
    {
        var sweeper = SweepLoopAsync();
        var reader = _queue.Reader;
        var batch = new List<(string, QueryRecord)>();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (!await reader.WaitToReadAsync(_stop.Token))
                {
                    break;
                }

                if (_options.CrossClientGatherDelay > TimeSpan.Zero && reader.Count < GatherEnough)
                {
                    // Real time, not the product's clock: a batch waits milliseconds, whatever the clock says.
                    await Task.Delay(_options.CrossClientGatherDelay, _stop.Token);
                }

                batch.Clear();
                var items = 0;
                while (items < MaxBatchItems && reader.TryRead(out var pending))
                {
                    batch.Add((pending.ClientId, pending.Record));
                    items += pending.Record.Items.Count;
                }

                _metrics.CrossClientBatch.Observe(items);
                await CheckAsync(batch);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // A failed batch loses its cross-client evidence only; the loop goes on.
                Log.BatchFailed(_logger, ex, batch.Count);
            }
        }

        await sweeper;
    }

    private async Task SweepLoopAsync()
    {
        using var timer = new PeriodicTimer(SweepEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await SweepAsync();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private readonly record struct Pending(string ClientId, QueryRecord Record);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The cluster-wide fingerprint check of a batch of {Requests} requests failed; those queries have no cross-client evidence")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int requests);

        [LoggerMessage(2, LogLevel.Warning, "Reporting cross-client matches to client {ClientId} failed")]
        public static partial void ReportFailed(ILogger logger, Exception exception, string clientId);
    }
}
