using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Options;
using ShieldCluster.Protection.RateLimiting;

namespace ShieldCluster.Grains.Clients;

/// <summary>
/// One API client: admits its requests under its plan (token bucket and daily item quota) and keeps
/// the bounded history of its recent queries. Usage is written to storage at most once per
/// <see cref="ProtectionOptions.StateWriteInterval"/> and on deactivation; a registration is written
/// before it is acknowledged.
/// </summary>
public sealed partial class ClientGrain(
    [PersistentState("client", ShieldStorage.Name)] IPersistentState<ClientState> state,
    IOptionsMonitor<IdentityOptions> identity,
    IOptions<ProtectionOptions> protection,
    [FromKeyedServices(ShieldTime.Key)] TimeProvider time,
    ILogger<ClientGrain> logger) : Grain, IClientGrain
{
    private bool _dirty;
    private IGrainTimer? _writer;
    private int _historyItems;

    private ClientState State => state.State;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _historyItems = State.History.Sum(r => r.Items.Count);
        _writer = this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions
        {
            DueTime = protection.Value.StateWriteInterval,
            Period = protection.Value.StateWriteInterval,
            Interleave = false,
            KeepAlive = false,
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _writer?.Dispose();
        await FlushAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task<Admission> AdmitAsync(int items)
    {
        var profile = ResolveProfile();
        if (profile is null)
        {
            return Task.FromResult(new Admission(AdmissionDecision.UnknownClient, 0, 0, 0, 0));
        }

        if (!identity.CurrentValue.Plans.TryGetValue(profile.Plan, out var plan))
        {
            Log.PlanMissing(logger, this.GetPrimaryKeyString(), profile.Plan);
            return Task.FromResult(new Admission(AdmissionDecision.Blocked, 0, 0, 0, 0));
        }

        var now = time.GetUtcNow();
        var limits = new BucketLimits(plan.RequestsPerSecond, plan.Burst);
        var bucket = State.BucketUpdatedAt is { } updated ? new TokenBucket(State.BucketTokens, updated) : TokenBucket.Full(limits, now);
        var quota = new DailyQuota(DateOnly.FromDayNumber(State.QuotaDayNumber), State.QuotaUsed);

        bucket = bucket.Take(limits, now, out var taken, out var retryAfter);
        var decision = AdmissionDecision.Admitted;
        if (!taken)
        {
            decision = AdmissionDecision.RateLimited;
        }
        else if (!quota.Fits(plan.DailyQuota, items, now))
        {
            // Refused requests keep their token: only admitted work spends the bucket.
            bucket = bucket with { Tokens = bucket.Tokens + 1 };
            decision = AdmissionDecision.QuotaExceeded;
            retryAfter = DailyQuota.UntilReset(now);
        }

        if (decision == AdmissionDecision.Admitted)
        {
            quota = quota.Consume(items, now);
            State.TotalRequests++;
            State.TotalItems += items;
            State.LastSeen = now;
        }
        else
        {
            State.RefusedRequests++;
        }

        State.BucketTokens = bucket.Tokens;
        State.BucketUpdatedAt = bucket.UpdatedAt;
        State.QuotaDayNumber = quota.Day.DayNumber;
        State.QuotaUsed = quota.Used;
        _dirty = true;

        return Task.FromResult(new Admission(
            decision,
            decision == AdmissionDecision.Admitted ? 0 : Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)),
            plan.Burst,
            (int)Math.Floor(bucket.Tokens),
            (int)Math.Ceiling(bucket.TimeToFull(limits, now).TotalSeconds)));
    }

    /// <inheritdoc />
    public Task RecordAsync(QueryRecord record)
    {
        var history = State.History;
        history.Add(record);
        _historyItems += record.Items.Count;
        var capacity = protection.Value.HistoryCapacity;
        var drop = 0;
        while (_historyItems > capacity && drop < history.Count - 1)
        {
            _historyItems -= history[drop].Items.Count;
            drop++;
        }

        history.RemoveRange(0, drop);
        _dirty = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<ClientProfile?> GetProfileAsync() => Task.FromResult(ResolveProfile());

    /// <inheritdoc />
    public async Task<bool> RegisterAsync(ClientProfile profile)
    {
        if (ResolveProfile() is not null)
        {
            return false;
        }

        State.Profile = profile;
        await state.WriteStateAsync();
        _dirty = false;
        return true;
    }

    /// <inheritdoc />
    public Task<ClientReport?> GetReportAsync()
    {
        var profile = ResolveProfile();
        if (profile is null)
        {
            return Task.FromResult<ClientReport?>(null);
        }

        var plan = identity.CurrentValue.Plans.GetValueOrDefault(profile.Plan);
        var now = time.GetUtcNow();
        var today = new DailyQuota(DateOnly.FromDayNumber(State.QuotaDayNumber), State.QuotaUsed).At(now).Used;
        return Task.FromResult<ClientReport?>(new ClientReport(
            this.GetPrimaryKeyString(),
            profile,
            new PlanLimits(plan?.RequestsPerSecond ?? 0, plan?.Burst ?? 0, plan?.DailyQuota ?? 0),
            new UsageReport(State.TotalRequests, State.TotalItems, today, State.RefusedRequests),
            _historyItems,
            State.LastSeen));
    }

    private ClientProfile? ResolveProfile()
    {
        var id = this.GetPrimaryKeyString();
        if (identity.CurrentValue.Clients.TryGetValue(id, out var configured))
        {
            return new ClientProfile(configured.Plan, configured.Models.Count == 0 ? null : configured.Models, ClientSource.Configuration, DateTimeOffset.MinValue);
        }

        return State.Profile;
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!_dirty)
        {
            return;
        }

        _dirty = false;
        try
        {
            await state.WriteStateAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _dirty = true;
            Log.WriteFailed(logger, ex, this.GetPrimaryKeyString());
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Client {ClientId} is on plan {Plan}, which is not configured: its requests are refused")]
        public static partial void PlanMissing(ILogger logger, string clientId, string plan);

        [LoggerMessage(2, LogLevel.Warning, "Client {ClientId}: writing state failed; retried on the next flush")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string clientId);
    }
}
