using ShieldCluster.Contracts;
using ShieldCluster.Grains.Clients;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// Merging a client's state after another activation wrote it: the stored state plus what this
/// activation changed since it last read or wrote (synced).
/// </summary>
public class ClientStateMergeTests
{
    private const int Day = 20_000;
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Counters_AddBothActivationsIncrements()
    {
        var synced = Counted(requests: 100, quota: 100, refused: 2);
        var mine = Counted(requests: 130, quota: 130, refused: 5);
        var stored = Counted(requests: 107, quota: 107, refused: 2);

        var merged = ClientStateMerge.Merge(synced, mine, stored, 50);

        Assert.Same(stored, merged);
        Assert.Equal((137L, 137L, 137L, 5L), (merged.TotalRequests, merged.TotalItems, merged.QuotaUsed, merged.RefusedRequests));
        // The inputs this activation holds are left as they were.
        Assert.Equal((100L, 130L), (synced.TotalRequests, mine.TotalRequests));
    }

    [Fact]
    public void DayCounters_FollowTheLatestDay()
    {
        // This activation's day began after the synced one: its whole count is new, and the stored one is of yesterday.
        var merged = ClientStateMerge.Merge(Counted(quota: 90), Counted(quota: 4, day: Day + 1), Counted(quota: 95), 50);
        Assert.Equal((Day + 1, 4L), (merged.QuotaDayNumber, merged.QuotaUsed));

        // The other activation already counts today: this one's count today adds to it.
        merged = ClientStateMerge.Merge(Counted(quota: 90), Counted(quota: 4, day: Day + 1), Counted(quota: 3, day: Day + 1), 50);
        Assert.Equal((Day + 1, 7L), (merged.QuotaDayNumber, merged.QuotaUsed));

        // The stored day is later than this activation's: yesterday's increments no longer count.
        merged = ClientStateMerge.Merge(Counted(quota: 90), Counted(quota: 95), Counted(quota: 3, day: Day + 1), 50);
        Assert.Equal((Day + 1, 3L), (merged.QuotaDayNumber, merged.QuotaUsed));

        // Unused leases given back make an increment negative; a count never goes below zero.
        merged = ClientStateMerge.Merge(Counted(quota: 50), Counted(quota: 10), Counted(quota: 20), 50);
        Assert.Equal(0L, merged.QuotaUsed);
    }

    [Fact]
    public void NovelItemsAndLabelCounts_AddPerLabel()
    {
        var synced = Novel(novel: 10, labels: [4, 6]);
        var mine = Novel(novel: 15, labels: [5, 6, 4]);
        var stored = Novel(novel: 12, labels: [6, 6]);
        stored.NovelClasses = 10;
        mine.NovelClasses = 12;

        var merged = ClientStateMerge.Merge(synced, mine, stored, 50);

        Assert.Equal(17L, merged.NovelItems);
        Assert.Equal([7L, 6L, 4L], merged.NovelLabelCounts);
        Assert.Equal(12, merged.NovelClasses);
    }

    [Fact]
    public void Enforcement_ChangedHereWins_UnlessTheOtherIsStricter()
    {
        // Only this activation stepped (an admin's unblock here): it holds.
        var merged = ClientStateMerge.Merge(Enforced(EnforcementState.Blocked, admin: true), Enforced(EnforcementState.Ok), Enforced(EnforcementState.Blocked, admin: true), 50);
        Assert.Equal((EnforcementState.Ok, false), (merged.Enforcement, merged.BlockedByAdmin));

        // Only the other stepped: its step holds.
        merged = ClientStateMerge.Merge(Enforced(EnforcementState.Ok), Enforced(EnforcementState.Ok), Enforced(EnforcementState.Throttled), 50);
        Assert.Equal(EnforcementState.Throttled, merged.Enforcement);

        // Both stepped: an admin's block elsewhere is not lost to a detector's step here.
        merged = ClientStateMerge.Merge(Enforced(EnforcementState.Ok), Enforced(EnforcementState.Degraded), Enforced(EnforcementState.Blocked, admin: true), 50);
        Assert.Equal((EnforcementState.Blocked, true), (merged.Enforcement, merged.BlockedByAdmin));

        // Both blocked: the longer block, and the admin's mark, hold.
        var mine = Enforced(EnforcementState.Blocked, until: T0.AddHours(2));
        var stored = Enforced(EnforcementState.Blocked, until: T0.AddHours(1), admin: true);
        merged = ClientStateMerge.Merge(Enforced(EnforcementState.Ok), mine, stored, 50);
        Assert.Equal((EnforcementState.Blocked, T0.AddHours(2), true), (merged.Enforcement, merged.BlockedUntil, merged.BlockedByAdmin));
        merged = ClientStateMerge.Merge(Enforced(EnforcementState.Ok), Enforced(EnforcementState.Blocked), Enforced(EnforcementState.Blocked, until: T0.AddHours(1)), 50);
        Assert.Null(merged.BlockedUntil);
    }

    [Fact]
    public void Events_AreTheUnionInTimeOrder_Bounded()
    {
        var common = Event(0, "created");
        var synced = Counted();
        synced.Events = [common];
        var mine = Counted();
        mine.Events = [common, Event(3, "enforcement"), Event(5, "enforcement")];
        var stored = Counted();
        stored.Events = [common, Event(4, "block")];

        var merged = ClientStateMerge.Merge(synced, mine, stored, 50);
        Assert.Equal([0, 3, 4, 5], merged.Events.Select(e => (int)(e.At - T0).TotalMinutes));

        stored.Events = [common, Event(4, "block")];
        merged = ClientStateMerge.Merge(synced, mine, stored, 3);
        Assert.Equal([3, 4, 5], merged.Events.Select(e => (int)(e.At - T0).TotalMinutes));
    }

    [Fact]
    public void FieldsChangedHere_AreKept_OthersAreTheStoredOnes()
    {
        var profile = new ClientProfile("free", null, ClientSource.AdminApi, T0);
        var synced = Counted();
        synced.Profile = profile;
        synced.Keys = [new ClientKey("old", null)];
        var mine = Counted();
        mine.Profile = profile;
        mine.Keys = [new ClientKey("old", T0.AddHours(1)), new ClientKey("new", null)];
        mine.Risk = 0.4;
        mine.BucketTokens = 3;
        mine.BucketUpdatedAt = T0;
        mine.LastSeen = T0.AddMinutes(2);
        var stored = Counted();
        stored.Profile = new ClientProfile("pro", null, ClientSource.AdminApi, T0);
        stored.Keys = [new ClientKey("old", null)];
        stored.Risk = 0.9;
        stored.BucketTokens = 8;
        stored.BucketUpdatedAt = T0.AddSeconds(1);
        stored.LastSeen = T0.AddMinutes(1);

        var merged = ClientStateMerge.Merge(synced, mine, stored, 50);

        Assert.Equal("pro", merged.Profile!.Plan); // changed elsewhere only
        Assert.Equal(["old", "new"], merged.Keys.Select(k => k.Hash)); // rotated here
        Assert.Equal(0.4, merged.Risk);
        Assert.Equal((3d, T0), (merged.BucketTokens, merged.BucketUpdatedAt!.Value)); // the emptier bucket
        Assert.Equal(T0.AddMinutes(2), merged.LastSeen);
    }

    private static ClientState Enforced(EnforcementState enforcement = EnforcementState.Ok, DateTimeOffset? until = null, bool admin = false) =>
        new() { Enforcement = enforcement, BlockedUntil = until, BlockedByAdmin = admin, QuotaDayNumber = Day, NovelDayNumber = Day, Version = ClientState.CurrentVersion };

    private static ClientState Counted(long requests = 0, long quota = 0, long refused = 0, int day = Day) =>
        new() { TotalRequests = requests, TotalItems = requests, QuotaDayNumber = day, QuotaUsed = quota, RefusedRequests = refused, NovelDayNumber = Day };

    private static ClientState Novel(long novel, List<long> labels) =>
        new() { QuotaDayNumber = Day, NovelDayNumber = Day, NovelItems = novel, NovelLabelCounts = labels };

    private static SecurityEvent Event(int minute, string kind) =>
        new(T0.AddMinutes(minute), "c", kind, EnforcementState.Ok, EnforcementState.Ok, 0, "test", kind);
}
