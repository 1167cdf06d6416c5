using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Options;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// The admission leases this front end holds, one per client at most. A client's grain grants a
/// lease (<see cref="Admission.Lease"/>) to a client in good standing that sends fast; while it is
/// live, this front end admits that client's requests itself (no grain call each) and buffers their
/// records, which reach the grain with the next renewal or, at the latest, with the flush every
/// <see cref="ProtectionOptions.LeaseFlushInterval"/>, one call per client however many requests.
/// A lease ends when its requests or items are spent or its time runs out; what it did not use goes
/// back to the grain with the next call. A client that keeps sending never waits for a renewal:
/// once half a lease's requests or three quarters of its time are spent, this front end renews it in
/// the background (carrying the buffered records, so the grain's detectors see them before it
/// decides), and the new lease replaces what is left of the old one, which goes back to the grain.
/// A renewal that the grain refuses, or answers without a lease (the client's standing changed,
/// its rate fell, its bucket ran low), ends the lease here at once.
/// </summary>
/// <remarks>
/// What a lease delays, at most: the grain's detectors see a leased request's features one flush
/// interval late (20 ms by default), and a change of the client's standing (a detection's
/// enforcement step, a block, a key rotation) reaches a front end holding a lease when the lease
/// ends, <see cref="ProtectionOptions.AdmissionLease"/> after it was granted (100 ms by default) or
/// after <see cref="ProtectionOptions.LeaseMaxRequests"/> requests, whichever comes first, and
/// sooner when a background renewal brings it. The
/// admin API also revokes this silo's lease of a client it blocks, rotates or deletes.
/// </remarks>
public sealed partial class AdmissionLeases : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Holder> _holders = new(StringComparer.Ordinal);
    private readonly IGrainFactory _grains;
    private readonly ProtectionOptions _options;
    private readonly ILogger<AdmissionLeases> _logger;
    // Resolved once, as the pipeline's admission counters are: a label lookup per renewal is not needed.
    private readonly Prometheus.Counter.Child _renewed;
    private readonly Prometheus.Counter.Child _ended;
    private readonly Prometheus.Counter.Child _renewalFailed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _startLock = new();
    private Task? _loop;
    private Task? _stopped;
    private volatile bool _stopping;
    private int _renewalsInFlight;

    /// <summary>Creates the lease table; its flush loop starts with the first lease.</summary>
    public AdmissionLeases(IGrainFactory grains, IOptions<ProtectionOptions> protection, Telemetry.ShieldMetrics metrics, ILogger<AdmissionLeases> logger)
    {
        _grains = grains;
        _renewed = metrics.LeaseRenewals.WithLabels("renewed");
        _ended = metrics.LeaseRenewals.WithLabels("ended");
        _renewalFailed = metrics.LeaseRenewals.WithLabels("failed");
        _options = protection.Value;
        _logger = logger;
    }

    /// <summary>Whether leases are on (<see cref="ProtectionOptions.AdmissionLease"/> above zero).</summary>
    public bool Enabled => _options.AdmissionLease > TimeSpan.Zero;

    /// <summary>Clients holding a lease or buffered records here.</summary>
    public int Count => _holders.Count;

    /// <summary>Renewals ahead (see <see cref="TryAdmit"/>) not answered yet.</summary>
    internal int RenewalsInFlight => Volatile.Read(ref _renewalsInFlight);

    /// <summary>
    /// Admits a request of <paramref name="items"/> items under the client's live lease, if it holds
    /// one made for the same key with enough left; <paramref name="admission"/> is then the grant's
    /// admission (its rate-limit figures as of the grant). The admission that spends half the
    /// lease's requests, or comes three quarters into its time, starts its renewal in the background.
    /// </summary>
    public bool TryAdmit(string clientId, string? keyHash, int items, out Admission admission)
    {
        admission = null!;
        if (!_holders.TryGetValue(clientId, out var holder))
        {
            return false;
        }

        bool renew;
        lock (holder)
        {
            var now = Environment.TickCount64;
            if (holder.Requests <= 0 || holder.Items < items || now >= holder.ExpiresAt
                || !string.Equals(holder.KeyHash, keyHash, StringComparison.Ordinal) || holder.Admission is null)
            {
                return false;
            }

            holder.Requests--;
            holder.Items -= items;
            admission = holder.Admission;
            renew = !holder.Renewing && (holder.Requests <= holder.RenewBelowRequests || now >= holder.RenewAt);
            holder.Renewing |= renew;
        }

        if (renew)
        {
            Interlocked.Increment(ref _renewalsInFlight);
            _ = RenewAheadAsync(clientId, holder, keyHash, items);
        }

        return true;
    }

    /// <summary>
    /// The renewal call for a request no lease admits: it ends the client's lease here and carries its
    /// buffered records and unused admissions to the grain.
    /// </summary>
    public AdmissionRenewal Renewal(string clientId, string? keyHash, int items)
    {
        if (!_holders.TryGetValue(clientId, out var holder))
        {
            return new AdmissionRenewal(items, keyHash, []);
        }

        lock (holder)
        {
            holder.EndLease();
            return holder.DrainInto(items, keyHash);
        }
    }

    /// <summary>Holds the lease an admission grants, if any (added to what is left of a live one: both came out of the bucket).</summary>
    public void Grant(string clientId, string? keyHash, Admission admission)
    {
        if (admission.Lease is not { } lease)
        {
            return;
        }

        if (_stopping)
        {
            // Stopping: nothing here will use the lease or deliver what its requests leave, so it goes back at once.
            Send(clientId, _grains.GetGrain<IClientGrain>(clientId), new Carried(null, lease.Requests, lease.Items));
            return;
        }

        var template = admission with { Lease = null };
        while (true)
        {
            var holder = _holders.GetOrAdd(clientId, static (id, grains) => new Holder(grains.GetGrain<IClientGrain>(id)), _grains);
            lock (holder)
            {
                if (holder.Retired)
                {
                    continue;
                }

                if (!string.Equals(holder.KeyHash, keyHash, StringComparison.Ordinal))
                {
                    // Another key's leftovers are given back with the next call; this key's lease starts afresh.
                    holder.EndLease();
                }

                holder.KeyHash = keyHash;
                holder.Start(lease.Requests + holder.Requests, lease.Items + holder.Items, lease.Milliseconds, template);
                break;
            }
        }

        EnsureStarted();
    }

    /// <summary>
    /// Buffers the record of a request while the client holds a lease here (delivered with the next
    /// renewal or flush); false when it holds none, and the caller sends the record itself.
    /// </summary>
    public bool TryBuffer(string clientId, QueryRecord record)
    {
        if (!_holders.TryGetValue(clientId, out var holder))
        {
            return false;
        }

        lock (holder)
        {
            if (holder.Retired)
            {
                return false;
            }

            (holder.Records ??= []).Add(record);
            return true;
        }
    }

    /// <summary>
    /// Ends the client's lease here at once (the admin API blocked, rotated or deleted it); its
    /// records and leftovers reach the grain unless <paramref name="deliver"/> is false.
    /// </summary>
    public void Revoke(string clientId, bool deliver = true)
    {
        if (_holders.TryRemove(clientId, out var holder))
        {
            _ = Retire(clientId, holder, deliver);
        }
    }

    /// <summary>
    /// Stops leasing on this front end and delivers what the leases hold (buffered records, unused
    /// admissions) to the client grains, awaiting every delivery: called when the silo begins to
    /// stop, while the grains can still take them in and before they write their state and
    /// deactivate (see <see cref="FrontEndShutdown"/>). A request that comes after asks its grain and
    /// sends its own record; a lease granted after is given back at once. Idempotent.
    /// </summary>
    public Task StopAsync()
    {
        lock (_startLock)
        {
            return _stopped ??= StopCoreAsync();
        }
    }

    private async Task StopCoreAsync()
    {
        _stopping = true;
        await _stop.CancelAsync();
        if (Volatile.Read(ref _loop) is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // A renewal in flight brings back a lease or leftovers for its holder: let it land first (briefly).
        var waitUntil = Environment.TickCount64 + 2_000;
        while (RenewalsInFlight > 0 && Environment.TickCount64 < waitUntil)
        {
            await Task.Delay(5);
        }

        // A grant that raced the flag above may still add a holder: sweep until none is left (a few passes at most).
        for (var pass = 0; pass < 3 && !_holders.IsEmpty; pass++)
        {
            var deliveries = new List<Task>();
            foreach (var (clientId, holder) in _holders)
            {
                if (_holders.TryRemove(new KeyValuePair<string, Holder>(clientId, holder)))
                {
                    deliveries.Add(Retire(clientId, holder, deliver: true));
                }
            }

            await Task.WhenAll(deliveries);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    /// <summary>Delivers every client's buffered records, and the unused admissions of leases that ran out; drops holders with nothing left.</summary>
    internal void Flush()
    {
        var now = Environment.TickCount64;
        foreach (var (clientId, holder) in _holders)
        {
            Carried carried;
            lock (holder)
            {
                var expired = now >= holder.ExpiresAt;
                if (expired)
                {
                    holder.EndLease();
                }

                carried = holder.Drain();
                if (expired && carried.IsEmpty)
                {
                    // Idle past its lease: a late request asks the grain, and its record goes on its own.
                    holder.Retired = true;
                    _holders.TryRemove(new KeyValuePair<string, Holder>(clientId, holder));
                }
            }

            Send(clientId, holder.Grain, carried);
        }
    }

    /// <summary>
    /// Renews a lease that is still live (see <see cref="TryAdmit"/>): the renewal carries what the
    /// client's requests left here, and asks for one request of <paramref name="items"/> items,
    /// which joins the new lease. The new lease replaces what the old one has left (given back with
    /// the next call); a refusal or an answer without a lease ends the lease here. Should the
    /// renewal fail, its records and leftovers wait for the next flush, and the lease runs its course.
    /// </summary>
    private async Task RenewAheadAsync(string clientId, Holder holder, string? keyHash, int items)
    {
        try
        {
            await RenewAheadCoreAsync(clientId, holder, keyHash, items);
        }
        finally
        {
            Interlocked.Decrement(ref _renewalsInFlight);
        }
    }

    private async Task RenewAheadCoreAsync(string clientId, Holder holder, string? keyHash, int items)
    {
        AdmissionRenewal renewal;
        lock (holder)
        {
            renewal = holder.DrainInto(items, keyHash);
        }

        Admission admission;
        try
        {
            admission = await holder.Grain.RenewAsync(renewal);
        }
        catch (Exception ex)
        {
            Log.RenewalFailed(_logger, ex, clientId);
            _renewalFailed.Inc();
            lock (holder)
            {
                holder.Renewing = false;
            }

            Requeue(clientId, renewal.Records, renewal.UnusedRequests, renewal.UnusedItems);
            return;
        }

        // What the grain admitted: the one request asked for, and the lease if it granted one.
        var admitted = admission.Decision == AdmissionDecision.Admitted;
        var lease = admitted ? admission.Lease : null;
        var grantedRequests = admitted ? 1 + (lease?.Requests ?? 0) : 0;
        var grantedItems = admitted ? items + (lease?.Items ?? 0) : 0;
        var giveBack = default(Carried);
        lock (holder)
        {
            holder.Renewing = false;
            if (holder.Retired || !string.Equals(holder.KeyHash, keyHash, StringComparison.Ordinal))
            {
                // The lease here ended meanwhile (revoked, expired and dropped, or another key's): all of it goes back.
                giveBack = new Carried(null, grantedRequests, grantedItems);
            }
            else if (lease is not null)
            {
                holder.EndLease();
                holder.Start(grantedRequests, grantedItems, lease.Milliseconds, admission with { Lease = null });
            }
            else
            {
                // Refused, or admitted without a lease: the client's requests ask the grain again.
                holder.EndLease();
                holder.UnusedRequests += grantedRequests;
                holder.UnusedItems += grantedItems;
            }
        }

        (lease is not null ? _renewed : _ended).Inc();
        if (!giveBack.IsEmpty)
        {
            Send(clientId, holder.Grain, giveBack);
        }
    }

    /// <summary>Ends the holder here; its records and leftovers go to the grain when <paramref name="deliver"/> (the task is that delivery).</summary>
    private Task Retire(string clientId, Holder holder, bool deliver)
    {
        Carried carried;
        lock (holder)
        {
            holder.Retired = true;
            holder.EndLease();
            carried = holder.Drain();
        }

        return deliver ? Deliver(clientId, holder.Grain, carried) : Task.CompletedTask;
    }

    private void Send(string clientId, IClientGrain grain, Carried carried) => _ = Deliver(clientId, grain, carried);

    private Task Deliver(string clientId, IClientGrain grain, Carried carried) => carried.IsEmpty ? Task.CompletedTask : SendAsync(clientId, grain, carried);

    private async Task SendAsync(string clientId, IClientGrain grain, Carried carried)
    {
        try
        {
            await grain.RecordLeasedAsync(carried.Records ?? [], carried.UnusedRequests, carried.UnusedItems);
        }
        catch (Exception ex)
        {
            // The grain's silo died or the call timed out: what it carried waits for the next flush.
            Log.FlushFailed(_logger, ex, clientId, carried.Records?.Count ?? 0);
            Requeue(clientId, carried.Records, carried.UnusedRequests, carried.UnusedItems);
        }
    }

    /// <summary>
    /// Takes back what a failed delivery or renewal carried (records and unused admissions), ahead of
    /// what was buffered since, for the next flush; the oldest records beyond
    /// <see cref="MaxPendingRecords"/> are dropped (counted in the log) so a long outage cannot grow it without bound.
    /// </summary>
    public void Requeue(string clientId, IReadOnlyList<QueryRecord>? records, int unusedRequests, long unusedItems)
    {
        if ((records is null || records.Count == 0) && unusedRequests == 0 && unusedItems == 0)
        {
            return;
        }

        if (_stopping)
        {
            // No flush will come: the grain could not be reached while this front end stops.
            Log.DroppedAtStop(_logger, clientId, records?.Count ?? 0, unusedRequests);
            return;
        }

        while (true)
        {
            var holder = _holders.GetOrAdd(clientId, static (id, grains) => new Holder(grains.GetGrain<IClientGrain>(id)), _grains);
            lock (holder)
            {
                if (holder.Retired)
                {
                    continue;
                }

                if (records is { Count: > 0 })
                {
                    var merged = new List<QueryRecord>(records.Count + (holder.Records?.Count ?? 0));
                    merged.AddRange(records);
                    if (holder.Records is { } later)
                    {
                        merged.AddRange(later);
                    }

                    if (merged.Count > MaxPendingRecords)
                    {
                        Log.RecordsDropped(_logger, clientId, merged.Count - MaxPendingRecords);
                        merged.RemoveRange(0, merged.Count - MaxPendingRecords);
                    }

                    holder.Records = merged;
                }

                holder.UnusedRequests += unusedRequests;
                holder.UnusedItems += unusedItems;
                break;
            }
        }

        EnsureStarted();
    }

    /// <summary>The most records a front end keeps for one client while its grain cannot be reached.</summary>
    public const int MaxPendingRecords = 10_000;

    private void EnsureStarted()
    {
        if (_loop is not null)
        {
            return;
        }

        lock (_startLock)
        {
            if (_stopped is null)
            {
                _loop ??= Task.Run(RunAsync);
            }
        }
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(_options.LeaseFlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    Flush();
                }
                catch (Exception ex)
                {
                    Log.FlushLoopFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>One client's lease on this front end; guarded by its own lock.</summary>
    /// <param name="grain">
    /// The client's grain, resolved once per holder: resolving a reference looks its interface's
    /// type up every time (~1% of a protected request's CPU, once per renewal and per flush).
    /// </param>
    private sealed class Holder(IClientGrain grain)
    {
        public readonly IClientGrain Grain = grain;
        public string? KeyHash;
        public int Requests;
        public long Items;
        public long ExpiresAt;
        public Admission? Admission;
        public List<QueryRecord>? Records;
        public int UnusedRequests;
        public long UnusedItems;
        public bool Retired;
        public bool Renewing;
        public int RenewBelowRequests;
        public long RenewAt;

        /// <summary>Holds a lease of <paramref name="requests"/> requests and <paramref name="items"/> items for <paramref name="milliseconds"/> from now.</summary>
        public void Start(int requests, long items, int milliseconds, Admission admission)
        {
            var now = Environment.TickCount64;
            Requests = requests;
            Items = items;
            ExpiresAt = now + milliseconds;
            RenewAt = now + (milliseconds * 3L / 4);
            RenewBelowRequests = requests / 2;
            Admission = admission;
        }

        /// <summary>Ends the lease here: what it had left becomes unused, to be given back.</summary>
        public void EndLease()
        {
            UnusedRequests += Requests;
            UnusedItems += Items;
            Requests = 0;
            Items = 0;
        }

        /// <summary>A renewal asking for a request of <paramref name="items"/> items, carrying what <see cref="Drain"/> takes.</summary>
        public AdmissionRenewal DrainInto(int items, string? keyHash)
        {
            var carried = Drain();
            return new AdmissionRenewal(items, keyHash, carried.Records ?? [], carried.UnusedRequests, carried.UnusedItems);
        }

        /// <summary>Takes the buffered records and the unused admissions, for the grain.</summary>
        public Carried Drain()
        {
            var carried = new Carried(Records, UnusedRequests, UnusedItems);
            Records = null;
            UnusedRequests = 0;
            UnusedItems = 0;
            return carried;
        }
    }

    /// <summary>What one call to a client's grain carries from this front end: records and unused admissions.</summary>
    private readonly record struct Carried(List<QueryRecord>? Records, int UnusedRequests, long UnusedItems)
    {
        public bool IsEmpty => Records is null && UnusedRequests == 0 && UnusedItems == 0;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Delivering {Records} leased records of client {ClientId} failed; retried with the next flush")]
        public static partial void FlushFailed(ILogger logger, Exception exception, string clientId, int records);

        [LoggerMessage(2, LogLevel.Warning, "The admission-lease flush failed; retried on the next tick")]
        public static partial void FlushLoopFailed(ILogger logger, Exception exception);

        [LoggerMessage(4, LogLevel.Debug, "Renewing the lease of client {ClientId} ahead of its end failed; it runs its course")]
        public static partial void RenewalFailed(ILogger logger, Exception exception, string clientId);

        [LoggerMessage(3, LogLevel.Warning, "Client {ClientId}: its grain could not be reached for long; the {Dropped} oldest leased records were dropped")]
        public static partial void RecordsDropped(ILogger logger, string clientId, int dropped);

        [LoggerMessage(5, LogLevel.Warning, "Client {ClientId}: its grain could not be reached while this front end stopped; {Records} leased records and {Unused} unused admissions were not delivered")]
        public static partial void DroppedAtStop(ILogger logger, string clientId, int records, int unused);
    }
}
