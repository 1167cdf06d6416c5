using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Audit;
using ShieldCluster.Grains.Options;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.RateLimiting;
using ShieldCluster.Protection.Risk;

namespace ShieldCluster.Grains.Clients;

/// <summary>
/// One API client: admits its requests under its plan (token bucket, daily item quota, enforcement)
/// and runs the stateful detectors over the bounded history of its queries, turning their signals
/// into a risk score and a step on the enforcement ladder. Usage and history are written at most
/// once per <see cref="ProtectionOptions.StateWriteInterval"/> and on deactivation (a write that
/// fails stays in memory for the next one); registrations, blocks, unblocks and enforcement steps
/// are written before they take effect. History older than
/// <see cref="ProtectionOptions.HistoryRetention"/> is dropped. The history is stored in segments
/// (<see cref="HistorySegments"/>) under a head: a write stores the segments that changed, then the head.
/// </summary>
public sealed partial class ClientGrain(
    [PersistentState("client", ShieldStorage.Name)] IPersistentState<ClientState> state,
    [PersistentState("history", ShieldStorage.History)] IPersistentState<ClientHistory> history,
    IOptionsMonitor<IdentityOptions> identity,
    IOptions<ProtectionOptions> protection,
    IOptions<DetectionOptions> detection,
    [FromKeyedServices(ShieldTime.Key)] TimeProvider time,
    IAuditLog audit,
    ILogger<ClientGrain> logger) : Grain, IClientGrain
{
    private const int MaxEvents = 50;

    private string? _clientId;
    private bool _dirty;
    private bool _historyDirty;
    private long _historyWrittenAt;
    private IGrainTimer? _writer;
    private ClientDetectors _detectors = null!;
    private PeerComparison? _peers;
    private bool _peerReportInFlight;
    private long _peerReportedAt;
    private bool _peerReported;
    private Dictionary<string, int>? _classesByModel;
    private readonly HistoryBuffer _history = new(protection.Value.HistoryCapacity + 1);
    private HistorySegments _segments = null!;
    private Task? _historyWrite;
    private long _rateWindowStart;
    private int _rateCount;
    private double _rate;
    private DeepCopier<ClientState> _copier = null!;
    private ClientState _synced = null!;
    private long _historySyncedEnd;

    // Written into the stored state and history head: a write refused for its ETag whose stored
    // state carries this id is this activation's own earlier write, which landed though its call
    // failed (cancelled, timed out), not another activation's.
    private readonly Guid _activationId = Guid.NewGuid();
    private bool _historyConflict;

    private ClientState State => state.State;

    // Decoded once: GetPrimaryKeyString makes a new string from the grain id on every call, and the
    // id is looked up on every admission.
    private string ClientId => _clientId ??= this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _copier = ServiceProvider.GetRequiredService<DeepCopier<ClientState>>();
        _synced = _copier.Copy(State);
        _segments = new HistorySegments(ServiceProvider.GetRequiredKeyedService<IGrainStorage>(ShieldStorage.History), this.GetGrainId(), ClientId, logger);
        await LoadHistoryAsync();
        Migrate();
        DropExpiredHistory(time.GetUtcNow());
        RebuildDetectors();

        // Spread over one interval: grains activated together do not all write at the same moment.
        _historyWrittenAt = WriteSchedule.HistoryWrittenAt(Environment.TickCount64, protection.Value.HistoryWriteInterval, protection.Value.StateWriteInterval, Random.Shared);
        _writer = this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions
        {
            DueTime = WriteSchedule.FirstDue(protection.Value.StateWriteInterval, Random.Shared),
            Period = protection.Value.StateWriteInterval,
            Interleave = false,
            KeepAlive = false,
        });
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _writer?.Dispose();
        await FlushAsync(final: true, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Admission> AdmitAsync(int items) => AdmitCoreAsync(items, keyHash: null, leasable: false);

    /// <inheritdoc />
    public Task<Admission> AdmitAsync(int items, string keyHash) => AdmitCoreAsync(items, keyHash, leasable: false);

    /// <inheritdoc />
    public async Task<Admission> RenewAsync(AdmissionRenewal renewal)
    {
        GiveBack(renewal.UnusedRequests, renewal.UnusedItems);
        if (renewal.Records.Count > 0)
        {
            await ObserveAsync(renewal.Records);
        }

        return await AdmitCoreAsync(renewal.Items, renewal.KeyHash, leasable: true);
    }

    /// <inheritdoc />
    public async Task RecordLeasedAsync(IReadOnlyList<QueryRecord> records, int unusedRequests, long unusedItems)
    {
        GiveBack(unusedRequests, unusedItems);
        if (records.Count > 0)
        {
            await ObserveAsync(records);
        }
    }

    private async Task<Admission> AdmitCoreAsync(int items, string? keyHash, bool leasable)
    {
        var profile = ResolveProfile();
        if (profile is null || (keyHash is not null && profile.Source != ClientSource.Configuration && !HoldsKey(keyHash, time.GetUtcNow())))
        {
            return new Admission(AdmissionDecision.UnknownClient, 0, 0, 0, 0);
        }

        if (!identity.CurrentValue.Plans.TryGetValue(profile.Plan, out var plan))
        {
            Log.PlanMissing(logger, ClientId, profile.Plan);
            return new Admission(AdmissionDecision.Blocked, 0, 0, 0, 0);
        }

        var now = time.GetUtcNow();
        await ExpireBlockAsync(now);
        if (State.Enforcement == EnforcementState.Blocked)
        {
            State.RefusedRequests++;
            _dirty = true;
            var retry = State.BlockedUntil is { } until ? Math.Max(1, (int)Math.Ceiling((until - now).TotalSeconds)) : 0;
            return new Admission(AdmissionDecision.Blocked, retry, plan.Burst, 0, 0);
        }

        var limits = new BucketLimits(plan.RequestsPerSecond, plan.Burst);
        if (State.Enforcement == EnforcementState.Throttled)
        {
            var factor = plan.Risk.ThrottleFactor;
            limits = new BucketLimits(plan.RequestsPerSecond * factor, Math.Max(1, (int)(plan.Burst * factor)));
        }

        var bucket = State.BucketUpdatedAt is { } updated ? new TokenBucket(Math.Min(State.BucketTokens, limits.Burst), updated) : TokenBucket.Full(limits, now);
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

        AdmissionLease? lease = null;
        var degrade = State.Enforcement is EnforcementState.Degraded or EnforcementState.Throttled;
        // Misinformation follows the plan's budget alone (the peers and the coverage weight only degrade or throttle earlier).
        var misinform = plan.Risk.Misinform && !plan.Risk.IsMonitorOnly(RiskScorer.Extraction) && NovelToday(now) >= plan.Risk.ExtractionBudget;
        if (decision == AdmissionDecision.Admitted)
        {
            quota = quota.Consume(items, now);
            State.TotalRequests++;
            State.TotalItems += items;
            State.LastSeen = now;
            UpdateRate();
            lease = leasable && !misinform ? Lease(plan, items, ref bucket, ref quota, now) : null;
            _rateCount += 1 + (lease?.Requests ?? 0);
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

        return new Admission(
            decision,
            decision == AdmissionDecision.Admitted ? 0 : Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)),
            limits.Burst,
            (int)Math.Floor(bucket.Tokens),
            (int)Math.Ceiling(bucket.TimeToFull(limits, now).TotalSeconds),
            degrade,
            misinform,
            decision == AdmissionDecision.Admitted && ShouldSqueeze(),
            lease);
    }

    /// <summary>
    /// A lease for a client in good standing that sends at least <see cref="ProtectionOptions.LeaseMinRate"/>
    /// requests per second: twice what it sends in <see cref="ProtectionOptions.AdmissionLease"/> at its
    /// recent rate (at most <see cref="ProtectionOptions.LeaseMaxRequests"/> requests of
    /// <paramref name="items"/> items each, and no more than its bucket and quota hold), taken from
    /// both now. Null when the client is new (its squeezing warm-up), in any state but ok, squeezed on
    /// every request, or slower: every one of its requests then asks this grain.
    /// </summary>
    private AdmissionLease? Lease(PlanOptions plan, int items, ref TokenBucket bucket, ref DailyQuota quota, DateTimeOffset now)
    {
        var options = protection.Value;
        if (options.AdmissionLease <= TimeSpan.Zero
            || _rate < options.LeaseMinRate
            || State.Enforcement != EnforcementState.Ok
            || SqueezesEveryRequest())
        {
            return null;
        }

        // Twice what the client sent in a lease's time at its recent rate: a lease that runs out of
        // requests before its time asks again early; what is left at the end comes back.
        var requests = Math.Min(options.LeaseMaxRequests, Math.Floor(2 * _rate * options.AdmissionLease.TotalSeconds));
        requests = Math.Min(requests, Math.Floor(bucket.Tokens));
        requests = Math.Min(requests, quota.Remaining(plan.DailyQuota, now) / Math.Max(1, items));
        if (requests < 2)
        {
            return null;
        }

        var granted = (int)requests;
        var leasedItems = (long)granted * items;
        bucket = bucket with { Tokens = bucket.Tokens - granted };
        quota = quota.Consume(leasedItems, now);
        State.TotalRequests += granted;
        State.TotalItems += leasedItems;
        return new AdmissionLease(granted, leasedItems, (int)Math.Ceiling(options.AdmissionLease.TotalMilliseconds));
    }

    /// <summary>Gives a lease's unused admissions back to the bucket (up to its burst) and today's quota.</summary>
    private void GiveBack(int requests, long items)
    {
        if (requests <= 0 && items <= 0)
        {
            return;
        }

        requests = Math.Max(0, requests);
        items = Math.Max(0, items);
        State.BucketTokens += requests;
        if (CurrentPlan() is { } plan)
        {
            State.BucketTokens = Math.Min(State.BucketTokens, plan.Burst);
        }

        if (State.QuotaDayNumber == DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).DayNumber)
        {
            State.QuotaUsed = Math.Max(0, State.QuotaUsed - items);
        }

        State.TotalRequests = Math.Max(0, State.TotalRequests - requests);
        State.TotalItems = Math.Max(0, State.TotalItems - items);
        _rateCount = Math.Max(0, _rateCount - requests);
        _dirty = true;
    }

    /// <summary>
    /// Closes the rate window once a second has passed: the client's rate is then what it was admitted
    /// over that window (leases count what they admit, less what comes back unused).
    /// </summary>
    private void UpdateRate()
    {
        // The product's clock (a test's fake one moves only when told).
        var now = time.GetTimestamp();
        if (_rateWindowStart == 0)
        {
            _rateWindowStart = now;
        }

        var elapsed = (double)(now - _rateWindowStart) / time.TimestampFrequency;
        if (elapsed >= 1)
        {
            _rate = _rateCount / elapsed;
            _rateCount = 0;
            _rateWindowStart = now;
        }
    }

    /// <summary>Whether adaptive squeezing squeezes every request of this client (new, stepped up, or flagged).</summary>
    private bool SqueezesEveryRequest()
    {
        var options = protection.Value;
        return options.Squeezing == SqueezingPolicy.Adaptive
            && (State.TotalRequests <= options.SqueezingWarmup
                || State.Enforcement != EnforcementState.Ok
                || _detectors.Signals.SqueezeFlags >= options.SqueezingEscalateFlags);
    }

    /// <summary>Whether this request's items are squeezed, under <see cref="SqueezingPolicy.Adaptive"/> (the pipeline decides the other policies).</summary>
    private bool ShouldSqueeze()
    {
        var options = protection.Value;
        return options.Squeezing == SqueezingPolicy.Adaptive
            && (SqueezesEveryRequest() || Random.Shared.NextDouble() < options.SqueezingSampleRate);
    }

    /// <inheritdoc />
    public Task RecordAsync(QueryRecord record) => ObserveAsync([record]);

    /// <summary>Appends served requests to the history, feeds their items to the detectors, then assesses the client once.</summary>
    private async Task ObserveAsync(IReadOnlyList<QueryRecord> served)
    {
        var started = StageTimings.Enabled ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        foreach (var record in served)
        {
            Append(record);
        }

        if (CurrentPlan() is { } plan)
        {
            var now = time.GetUtcNow();
            await AssessAsync(plan.Risk, now);
            ReportToPeers(ResolveProfile()!.Plan, now);
        }

        if (StageTimings.Enabled)
        {
            StageTimings.Add(StageTimings.Stage.GrainRecord, System.Diagnostics.Stopwatch.GetTimestamp() - started, served.Count);
        }
    }

    private void Append(QueryRecord record)
    {
        _history.Add(record);
        _segments.Mark(_history.End - 1, _history.End - 1);
        DropOverCapacity();
        _dirty = true;
        // The first change after a whole interval without a write: the grain would write at its next
        // tick, so grains whose clients start sending together (a load's start, a burst after a quiet
        // spell) would write together from then on; its write is due a random part of the interval
        // from now instead, never later than one interval. (A change while a write is in flight is
        // not after a quiet interval: that write's end sets the time of the last write.)
        var now = Environment.TickCount64;
        if (!_historyDirty && !HistoryWriteRunning && HistoryWriteDue(now))
        {
            _historyWrittenAt = WriteSchedule.HistoryWrittenAt(now, protection.Value.HistoryWriteInterval, protection.Value.StateWriteInterval, Random.Shared);
        }

        _historyDirty = true;

        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).DayNumber;
        if (State.NovelDayNumber != today)
        {
            State.NovelDayNumber = today;
            State.NovelItems = 0;
            State.NovelLabelCounts.Clear();
            State.NovelClasses = 0;
        }

        var novel = State.NovelItems;
        foreach (var item in record.Items)
        {
            var retries = _detectors.Signals.Retries;
            if (_detectors.Observe(ToObservation(item)).Retries == retries)
            {
                State.NovelItems++;
                ExtractionCoverage.Count(State.NovelLabelCounts, item.Label);
            }
        }

        if (State.NovelItems != novel)
        {
            State.NovelClasses = Math.Max(State.NovelClasses, ClassesOf(record.Model, record.Version));
        }
    }

    /// <summary>
    /// Drops the oldest records while the history holds more than <see cref="ProtectionOptions.HistoryCapacity"/>
    /// items (the newest record stays, however large): the numbering starts later by as many.
    /// </summary>
    private void DropOverCapacity()
    {
        var capacity = protection.Value.HistoryCapacity;
        var (drop, items) = (0, _history.Items);
        while (items > capacity && drop < _history.Count - 1)
        {
            items -= _history.ItemsOf(drop);
            drop++;
        }

        _history.RemoveFirst(drop);
    }

    /// <inheritdoc />
    /// <remarks>Cross-client evidence lives in memory only (the index itself does): a reactivated grain starts without it.</remarks>
    public async Task ReportCrossClientMatchesAsync(int matched, int items, IReadOnlyList<string> otherClients)
    {
        var alarmed = _detectors.Signals.CrossClientMatches >= detection.Value.CrossClientAlarmMatches;
        _detectors.ObserveCrossClient(matched, items);
        if (!alarmed && _detectors.Signals.CrossClientMatches >= detection.Value.CrossClientAlarmMatches)
        {
            // An attack spanning several clients: audited, and alerted (the webhook), once per crossing.
            await audit.AppendAsync(new SecurityEvent(time.GetUtcNow(), ClientId, AlertRules.CrossClientKind, State.Enforcement, State.Enforcement, State.Risk, "detector",
                $"{_detectors.Signals.CrossClientMatches} of this client's last {detection.Value.CrossClientWindow} queries matched other clients' recent queries, including those of {string.Join(", ", otherClients.Take(10))}"));
        }

        if (CurrentPlan() is { } plan)
        {
            await AssessAsync(plan.Risk, time.GetUtcNow());
        }
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
        // Until the write lands the change is pending: a failure leaves it for the next flush.
        _dirty = true;
        await WriteStateAsync(CancellationToken.None);
        _dirty = false;
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> RegisterAsync(ClientProfile profile, string keyHash, string actor)
    {
        if (ResolveProfile() is not null)
        {
            return false;
        }

        State.Profile = profile;
        State.Keys = [new ClientKey(keyHash, null)];
        await CommitStepAsync(new SecurityEvent(time.GetUtcNow(), ClientId, "created", EnforcementState.Ok, EnforcementState.Ok, 0, actor, $"client created on plan '{profile.Plan}'"));
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> BlockAsync(string reason, DateTimeOffset? until, string actor)
    {
        if (ResolveProfile() is null)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var from = State.Enforcement;
        State.Enforcement = EnforcementState.Blocked;
        State.BlockedUntil = until;
        State.BlockedByAdmin = true;
        await CommitStepAsync(new SecurityEvent(now, ClientId, "block", from, EnforcementState.Blocked, State.Risk, actor, reason));
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> UnblockAsync(string reason, string actor)
    {
        if (ResolveProfile() is null)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var from = State.Enforcement;
        State.Enforcement = EnforcementState.Ok;
        State.BlockedUntil = null;
        State.BlockedByAdmin = false;
        State.Risk = 0;
        State.NovelItems = 0;
        State.NovelLabelCounts.Clear();
        State.NovelClasses = 0;
        State.DetectorsFrom = _history.End;
        RebuildDetectors();
        await CommitStepAsync(new SecurityEvent(now, ClientId, "unblock", from, EnforcementState.Ok, 0, actor, reason));
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> RotateKeyAsync(string newKeyHash, DateTimeOffset oldKeysValidUntil, string actor)
    {
        if (ResolveProfile() is not { Source: not ClientSource.Configuration })
        {
            return false;
        }

        var now = time.GetUtcNow();
        State.Keys = [.. State.Keys
            .Where(k => k.ValidUntil is not { } until || until > now)
            .Select(k => k with { ValidUntil = k.ValidUntil is { } until && until < oldKeysValidUntil ? until : oldKeysValidUntil })
            .Where(k => k.ValidUntil > now), new ClientKey(newKeyHash, null)];
        var grace = oldKeysValidUntil > now ? $"the previous key works until {oldKeysValidUntil:O}" : "the previous key stopped working at once";
        await CommitStepAsync(new SecurityEvent(now, ClientId, "key-rotated", State.Enforcement, State.Enforcement, State.Risk, actor, grace));
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string actor)
    {
        if (ResolveProfile() is not { Source: not ClientSource.Configuration })
        {
            return false;
        }

        var now = time.GetUtcNow();
        var last = new SecurityEvent(now, ClientId, "deleted", State.Enforcement, EnforcementState.Ok, 0, actor, "client deleted with its keys, usage and history");
        _writer?.Dispose();
        await AwaitHistoryWriteAsync();
        await state.ClearStateAsync();
        await _segments.ClearAsync();
        await history.ClearStateAsync();
        state.State = new ClientState { Version = ClientState.CurrentVersion };
        _synced = _copier.Copy(State);
        _historySyncedEnd = 0;
        history.State = new ClientHistory();
        _history.Reset([], 0);
        _dirty = _historyDirty = false;
        RebuildDetectors();
        await audit.AppendAsync(last);
        _ = GrainFactory.GetGrain<IRiskIndexGrain>(0).ReportAsync(new RiskEntry(ClientId, 0, EnforcementState.Ok, now, long.MaxValue));
        DeactivateOnIdle();
        return true;
    }

    /// <inheritdoc />
    public async Task<ClientReport?> GetReportAsync()
    {
        var profile = ResolveProfile();
        if (profile is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        await ExpireBlockAsync(now);
        var plan = identity.CurrentValue.Plans.GetValueOrDefault(profile.Plan);
        var today = new DailyQuota(DateOnly.FromDayNumber(State.QuotaDayNumber), State.QuotaUsed).At(now).Used;
        return new ClientReport(
            ClientId,
            profile,
            new PlanLimits(plan?.RequestsPerSecond ?? 0, plan?.Burst ?? 0, plan?.DailyQuota ?? 0),
            new UsageReport(State.TotalRequests, State.TotalItems, today, State.RefusedRequests),
            _history.Items,
            State.LastSeen,
            new RiskReport(
                State.Risk,
                State.Enforcement,
                State.Enforcement == EnforcementState.Blocked ? State.BlockedUntil : null,
                [.. RiskScorer.Score(_detectors.Signals, Extraction(now), detection.Value, plan?.Risk ?? new RiskPolicy()).Verdicts
                    .Select(v => new DetectorEvidence(v.Detector, v.Score, v.MonitorOnly, v.Evidence))],
                [.. State.Events]),
            Timeline(now));
    }

    private async Task AssessAsync(RiskPolicy policy, DateTimeOffset now)
    {
        // The risk on every query; the evidence is written only when the client steps (or is reported on).
        var risk = RiskScorer.Risk(_detectors.Signals, Extraction(now), detection.Value, policy);
        var previousRisk = State.Risk;
        State.Risk = risk;
        await ExpireBlockAsync(now);
        if (State.BlockedByAdmin)
        {
            return;
        }

        var from = State.Enforcement;
        var to = (EnforcementState)policy.LevelFor(risk);
        // Escalate at once; step down only from degraded or throttled (a block runs its time).
        if (to > from || (to < from && from != EnforcementState.Blocked))
        {
            State.Enforcement = to;
            State.BlockedUntil = to == EnforcementState.Blocked ? now + policy.BlockFor : null;
            var verdicts = RiskScorer.Score(_detectors.Signals, Extraction(now), detection.Value, policy).Verdicts;
            var evidence = string.Join("; ", verdicts.Where(v => v.Score > 0).Select(v => $"{v.Detector}{(v.MonitorOnly ? " (monitor only)" : "")}: {v.Evidence}"));
            await CommitStepAsync(new SecurityEvent(now, ClientId, "enforcement", from, to, risk, "detector", evidence.Length > 0 ? evidence : "risk fell"));
            Log.EnforcementStep(logger, ClientId, from, to, risk);
        }
        else if (Math.Abs(risk - previousRisk) >= 0.05)
        {
            ReportToIndex(now);
        }
    }

    private async Task ExpireBlockAsync(DateTimeOffset now)
    {
        if (State.Enforcement == EnforcementState.Blocked && State.BlockedUntil is { } until && until <= now)
        {
            State.Enforcement = EnforcementState.Ok;
            State.BlockedUntil = null;
            State.BlockedByAdmin = false;
            await CommitStepAsync(new SecurityEvent(now, ClientId, "block-expired", EnforcementState.Blocked, EnforcementState.Ok, State.Risk, "policy", "the block's time ran out"));
        }
    }

    private async Task CommitStepAsync(SecurityEvent step)
    {
        State.Events.Add(step);
        if (State.Events.Count > MaxEvents)
        {
            State.Events.RemoveRange(0, State.Events.Count - MaxEvents);
        }

        // Until the write lands the change is pending: a failure leaves it for the next flush.
        _dirty = true;
        await WriteStateAsync(CancellationToken.None);
        _dirty = false;
        await audit.AppendAsync(step);
        ReportToIndex(step.At);
    }

    private bool HoldsKey(string keyHash, DateTimeOffset now) =>
        State.Keys.Count == 0 || State.Keys.Exists(k => k.Hash == keyHash && (k.ValidUntil is not { } until || until > now));

    /// <summary>Requests and items per minute over the last hour of the history, oldest first.</summary>
    private List<TimelinePoint> Timeline(DateTimeOffset now)
    {
        var from = now.AddHours(-1);
        return [.. Enumerable.Range(0, _history.Count)
            .Select(r => (At: _history.At(r), Items: _history.ItemsOf(r)))
            .Where(r => r.At > from)
            .GroupBy(r => new DateTimeOffset(r.At.UtcTicks - (r.At.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero))
            .OrderBy(g => g.Key)
            .Select(g => new TimelinePoint(g.Key, g.Count(), g.Sum(r => r.Items)))];
    }

    private void ReportToIndex(DateTimeOffset now) =>
        _ = GrainFactory.GetGrain<IRiskIndexGrain>(0).ReportAsync(new RiskEntry(ClientId, State.Risk, State.Enforcement, now, ++State.RiskVersion));

    private void RebuildDetectors()
    {
        _detectors = new ClientDetectors(detection.Value);
        foreach (var item in _history.ItemsFrom((int)Math.Clamp(State.DetectorsFrom - _history.Start, 0, _history.Count)))
        {
            _detectors.Observe(ToObservation(item));
        }
    }

    private long NovelToday(DateTimeOffset now) =>
        State.NovelDayNumber == DateOnly.FromDateTime(now.UtcDateTime).DayNumber ? State.NovelItems : 0;

    /// <summary>The extraction detector's signals: novel inputs today, their class coverage, and the plan's peers today.</summary>
    private ExtractionSignals Extraction(DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime).DayNumber;
        if (State.NovelDayNumber != today)
        {
            return new ExtractionSignals(0, Peers: _peers is { } stale && stale.DayNumber == today ? stale : null);
        }

        var coverage = State.NovelLabelCounts.Count > 0
            ? ExtractionCoverage.Measure(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(State.NovelLabelCounts), State.NovelClasses)
            : (ClassCoverage?)null;
        return new ExtractionSignals(State.NovelItems, coverage, _peers is { } peers && peers.DayNumber == today ? peers : null);
    }

    /// <summary>
    /// Reports today's novel inputs to the plan's peer grain, at most once per
    /// <see cref="DetectionOptions.PeerReportInterval"/> and one call at a time, without awaiting it:
    /// the answer (the peers' statistics) lands in a turn of its own and counts from the next assessment.
    /// </summary>
    private void ReportToPeers(string plan, DateTimeOffset now)
    {
        var nowTicks = Environment.TickCount64;
        if (_peerReportInFlight || (_peerReported && nowTicks - _peerReportedAt < (long)detection.Value.PeerReportInterval.TotalMilliseconds))
        {
            return;
        }

        _peerReportInFlight = true;
        _peerReported = true;
        _peerReportedAt = nowTicks;
        var signals = Extraction(now);
        var report = new PeerReport(ClientId, DateOnly.FromDateTime(now.UtcDateTime).DayNumber, signals.NovelToday, signals.Coverage?.Coverage ?? 0);
        _ = ReportToPeersAsync(plan, report);
    }

    private async Task ReportToPeersAsync(string plan, PeerReport report)
    {
        try
        {
            var standings = await GrainFactory.GetGrain<IPlanPeersGrain>(plan).ReportAsync(report);
            _peers = new PeerComparison(standings.DayNumber, standings.Peers, standings.MedianNovel, standings.P90Novel, standings.MedianCoverage);
        }
        catch (Exception ex)
        {
            // The previous figures stay (or none): the budget still counts.
            Log.PeerReportFailed(logger, ex, ClientId, plan);
        }
        finally
        {
            _peerReportInFlight = false;
        }
    }

    /// <summary>The classes of <paramref name="model"/> (its labels), or 0 when unknown.</summary>
    private int ClassesOf(string model, string version)
    {
        _classesByModel ??= [];
        if (!_classesByModel.TryGetValue(model, out var classes))
        {
            classes = ServiceProvider.GetService<ModelRepository>()?.Find(model, version)?.Labels.Count ?? 0;
            _classesByModel[model] = classes;
        }

        return classes;
    }

    private static QueryObservation ToObservation(QueryItem item) =>
        new(item.Digest, item.Label, item.Thumbnail, item.Fingerprint, item.SqueezeFlagged);

    /// <summary>The client's plan, or null when the client or its plan does not exist.</summary>
    private PlanOptions? CurrentPlan() =>
        ResolveProfile() is { } profile ? identity.CurrentValue.Plans.GetValueOrDefault(profile.Plan) : null;

    private ClientProfile? ResolveProfile()
    {
        if (identity.CurrentValue.Clients.TryGetValue(ClientId, out var configured))
        {
            return new ClientProfile(configured.Plan, configured.Models.Count == 0 ? null : configured.Models, ClientSource.Configuration, DateTimeOffset.MinValue);
        }

        return State.Profile;
    }

    private Task FlushAsync(CancellationToken cancellationToken) => FlushAsync(final: false, cancellationToken);

    private async Task FlushAsync(bool final, CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        if (final)
        {
            await AwaitHistoryWriteAsync();
        }

        // The last flush writes again (twice at most) after a write refused for an ETag: the refusal
        // took the stored ETag, or merged another activation's records, for the write that follows.
        for (var attempt = 0; attempt == 0 || (final && _historyDirty && _historyConflict && attempt < 3); attempt++)
        {
            FlushHistory(final, now, cancellationToken);
            if (final)
            {
                await AwaitHistoryWriteAsync();
            }
        }

        if (_dirty)
        {
            try
            {
                await WriteStateAsync(cancellationToken);
                _dirty = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.WriteFailed(logger, ex, ClientId);
            }
        }
    }

    /// <summary>Whether a history write started and has not ended (one runs at a time).</summary>
    private bool HistoryWriteRunning => _historyWrite is { IsCompleted: false };

    /// <summary>Whether a history write is due at <paramref name="now"/> (<see cref="Environment.TickCount64"/>): one interval since the last.</summary>
    private bool HistoryWriteDue(long now) => now - _historyWrittenAt >= (long)protection.Value.HistoryWriteInterval.TotalMilliseconds;

    /// <summary>Starts writing the history when it changed, no write is running and the write interval has passed (or <paramref name="final"/>).</summary>
    private void FlushHistory(bool final, long now, CancellationToken cancellationToken)
    {
        if (_historyDirty && !HistoryWriteRunning
            && (final || HistoryWriteDue(now)))
        {
            var started = StageTimings.Enabled ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
            DropExpiredHistory(time.GetUtcNow());
            // Snapshots (copies of the changed segments' records, taken out of the history's
            // reused arrays) are what the store serialises: the write runs while this grain goes
            // on admitting and recording, instead of holding its next requests. One write at a
            // time; the next flush writes what arrived meanwhile.
            var segments = _segments.TakeMarked(_history);
            history.State = new ClientHistory { Start = _history.Start, End = _history.End, SegmentSize = HistorySegment.Size, Writer = _activationId };
            _historyDirty = false;
            _historyWrite = WriteHistoryAsync(segments, now, cancellationToken);
            if (StageTimings.Enabled)
            {
                StageTimings.Add(StageTimings.Stage.HistoryFlush, System.Diagnostics.Stopwatch.GetTimestamp() - started);
            }
        }
    }

    /// <summary>
    /// Writes the client's state. A write refused for its ETag means another activation of this
    /// client wrote since this one last read or wrote (a duplicate activation after a silo failed):
    /// the stored state is read, this activation's changes are merged onto it
    /// (<see cref="ClientStateMerge"/>) and written, and this activation deactivates, so that the
    /// client's calls go to one activation again, which loads the merged state. A stored state that
    /// carries this activation's own id is its earlier write, landed though its call failed: this
    /// state simply replaces it.
    /// </summary>
    private async Task WriteStateAsync(CancellationToken cancellationToken)
    {
        State.Writer = _activationId;
        for (var merges = 0; ; merges++)
        {
            try
            {
                await state.WriteStateAsync(cancellationToken);
                break;
            }
            catch (InconsistentStateException) when (merges < 3)
            {
                var mine = State;
                await state.ReadStateAsync(cancellationToken);
                if (State.Writer == _activationId)
                {
                    // This activation's own write landed after all: this state replaces it.
                    state.State = mine;
                    continue;
                }

                // The store holds what was read: until a write lands, this activation's changes are counted from it.
                var stored = _copier.Copy(State);
                ClientStateMerge.Merge(_synced, mine, State, MaxEvents);
                _synced = stored;
                Log.StateMerged(logger, ClientId, State.TotalRequests - stored.TotalRequests);
                DeactivateOnIdle();
            }
        }

        _synced = _copier.Copy(State);
    }

    /// <summary>
    /// Writes the changed <paramref name="segments"/>, then the head (so a stored head never counts
    /// records its segments do not hold), then clears the segments the head has left behind. A
    /// failure leaves the history dirty, and the segments not written marked, for the next flush.
    /// </summary>
    private async Task WriteHistoryAsync(List<HistorySegment> segments, long startedAt, CancellationToken cancellationToken)
    {
        var written = false;
        var conflict = false;
        try
        {
            var segmentsWritten = await _segments.WriteAsync(segments);
            conflict = segmentsWritten == SegmentWrite.Conflict;
            if (segmentsWritten == SegmentWrite.Written)
            {
                await history.WriteStateAsync(cancellationToken);
                written = true;
            }
        }
        catch (InconsistentStateException)
        {
            conflict = true;
        }
        catch (OperationCanceledException)
        {
            // Deactivating: the final flush writes it.
        }
        catch (Exception ex)
        {
            Log.WriteFailed(logger, ex, ClientId);
        }

        _historyConflict = conflict;
        if (written)
        {
            _historyWrittenAt = startedAt;
            _historySyncedEnd = history.State.End;
            await _segments.ClearBelowAsync(history.State.Start);
            return;
        }

        _historyDirty = true;
        if (conflict)
        {
            try
            {
                await MergeStoredHistoryAsync();
            }
            catch (Exception ex)
            {
                Log.WriteFailed(logger, ex, ClientId);
            }
        }
    }

    /// <summary>
    /// After a history write was refused for an ETag: when the stored head is not the one this
    /// activation last wrote or read, another activation of this client wrote it, and the records
    /// it stored after this activation's last write are put into this activation's history before
    /// its own unwritten ones (renumbered after them, and all written at the next flush), then this
    /// activation deactivates (see <see cref="WriteStateAsync"/>). A stored head that is still this
    /// activation's own means only a segment was left behind (its ETag is taken for the next write).
    /// </summary>
    private async Task MergeStoredHistoryAsync()
    {
        var known = history.Etag;
        await history.ReadStateAsync();
        var head = history.State;
        if (head.SegmentSize != HistorySegment.Size || history.Etag == known)
        {
            return;
        }

        if (head.Writer == _activationId)
        {
            // This activation's own head landed after all (its call failed): nothing to merge.
            _historySyncedEnd = head.End;
            return;
        }

        var from = Math.Max(_historySyncedEnd, head.Start);
        var (theirs, _) = await _segments.LoadAsync(from, Math.Max(from, head.End), head.SegmentSize);

        // From here on without awaiting: records this activation appends meanwhile stay after its own.
        var at = (int)Math.Clamp(_historySyncedEnd - _history.Start, 0, _history.Count);
        var records = _history.ToRecords(0, _history.Count);
        records.InsertRange(at, theirs);
        _history.Reset(records, _history.Start);
        var renumberedFrom = _history.Start + at;
        _historySyncedEnd = renumberedFrom + theirs.Count;
        DropOverCapacity();
        if (_history.Count > 0)
        {
            _segments.Mark(Math.Max(renumberedFrom, _history.Start), _history.End - 1);
        }

        _historyDirty = true;
        _historyWrittenAt = 0;
        Log.HistoryMerged(logger, ClientId, theirs.Count);
        DeactivateOnIdle();
    }

    private async Task AwaitHistoryWriteAsync()
    {
        if (_historyWrite is { } write)
        {
            await write;
        }
    }

    /// <summary>Moves a version-1 state's history into its own store and marks the state current.</summary>
    private void Migrate()
    {
        if (State.Version >= ClientState.CurrentVersion)
        {
            return;
        }

        if (State.History.Count > 0 && _history.Count == 0)
        {
            _history.Reset(State.History, State.HistoryStart);
            MarkHistory();
        }

        State.History = [];
        State.HistoryStart = 0;
        State.Version = ClientState.CurrentVersion;
        _dirty = true;
    }

    /// <summary>
    /// Reads the stored history: a head of the first format holds its records (and is written in
    /// segments at the next flush); otherwise the head's segments are read, and records whose
    /// segment is missing are left out as if dropped.
    /// </summary>
    private async Task LoadHistoryAsync()
    {
        var head = history.State;
        if (head.SegmentSize > 0)
        {
            var (records, lastMissing) = await _segments.LoadAsync(head.Start, head.End, head.SegmentSize);
            _history.Reset(records, head.End - records.Count);
            if (records.Count < head.End - head.Start)
            {
                _historyDirty = true;
                MarkRenumbered(lastMissing);
            }
        }
        else
        {
            // The first format's head holds the records itself.
            _history.Reset(head.Records, head.Start);
        }

        if (head.SegmentSize != HistorySegment.Size)
        {
            MarkHistory();
        }

        _historySyncedEnd = head.SegmentSize > 0 ? head.End : _history.End;
    }

    /// <summary>Marks the whole history to be written (it is in no segments of the current size yet).</summary>
    private void MarkHistory()
    {
        if (_history.Count > 0)
        {
            _segments.Mark(_history.Start, _history.End - 1);
            _historyDirty = true;
        }
    }

    /// <summary>
    /// Records were dropped from the history, the last of them numbered <paramref name="lastDropped"/>
    /// before: those before it moved up in the numbering (which still ends where it did), so the
    /// segments they are in now are written again.
    /// </summary>
    private void MarkRenumbered(long lastDropped)
    {
        if (lastDropped >= _history.Start)
        {
            _segments.Mark(_history.Start, lastDropped);
        }
    }

    private void DropExpiredHistory(DateTimeOffset now)
    {
        // Records arrive one-way from many front ends, so they are in time order only roughly:
        // every expired one goes, wherever it sits, and the numbering moves on by as many.
        var cutoff = now - protection.Value.HistoryRetention;
        var (last, expired) = (-1, 0);
        for (var r = 0; r < _history.Count; r++)
        {
            if (_history.At(r) < cutoff)
            {
                (last, expired) = (r, expired + 1);
            }
        }

        if (last < 0)
        {
            return;
        }

        var lastDropped = _history.Start + last;
        if (expired == last + 1)
        {
            _history.RemoveFirst(expired);
        }
        else
        {
            var kept = _history.ToRecords(0, _history.Count).FindAll(r => r.At >= cutoff);
            _history.Reset(kept, _history.Start + expired);
        }

        _historyDirty = true;
        MarkRenumbered(lastDropped);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Client {ClientId} is on plan {Plan}, which is not configured: its requests are refused")]
        public static partial void PlanMissing(ILogger logger, string clientId, string plan);

        [LoggerMessage(2, LogLevel.Warning, "Client {ClientId}: writing state failed; retried on the next flush")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string clientId);

        [LoggerMessage(3, LogLevel.Warning, "Client {ClientId}: enforcement {From} -> {To} at risk {Risk:F2}")]
        public static partial void EnforcementStep(ILogger logger, string clientId, EnforcementState from, EnforcementState to, double risk);

        [LoggerMessage(10, LogLevel.Warning, "Client {ClientId}: another activation of this client wrote its state (a duplicate activation after a silo failure); this activation's {Requests} unwritten requests were merged onto the stored state, and it deactivates")]
        public static partial void StateMerged(ILogger logger, string clientId, long requests);

        [LoggerMessage(11, LogLevel.Warning, "Client {ClientId}: another activation of this client wrote its history (a duplicate activation after a silo failure); its {Records} records were merged with this one's, and this activation deactivates")]
        public static partial void HistoryMerged(ILogger logger, string clientId, int records);

        [LoggerMessage(4, LogLevel.Debug, "Client {ClientId}: reporting to the peers of plan {Plan} failed; the budget alone counts until the next report")]
        public static partial void PeerReportFailed(ILogger logger, Exception exception, string clientId, string plan);
    }
}
