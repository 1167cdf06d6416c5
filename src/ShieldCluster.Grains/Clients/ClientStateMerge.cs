using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Clients;

/// <summary>
/// Merges a client's state when its write is refused for its ETag: another activation of the same
/// client wrote in between (Orleans' default directory allows a duplicate activation for a while
/// after a silo fails). The stored state is taken as the base, and what this activation changed
/// since the state it last read or wrote (<c>synced</c>) is put on top: counters add this
/// activation's increments to the stored ones, so two activations' usage sums instead of one
/// overwriting the other; a field this activation changed keeps its value; where both changed the
/// enforcement, the stricter wins (a block is never lost to a merge); events are the union.
/// </summary>
public static class ClientStateMerge
{
    /// <summary>
    /// Puts the changes from <paramref name="synced"/> to <paramref name="mine"/> on top of
    /// <paramref name="stored"/>, which is changed in place and returned. <paramref name="synced"/>
    /// and <paramref name="mine"/> are not changed.
    /// </summary>
    public static ClientState Merge(ClientState synced, ClientState mine, ClientState stored, int maxEvents)
    {
        stored.TotalRequests = Math.Max(0, stored.TotalRequests + mine.TotalRequests - synced.TotalRequests);
        stored.TotalItems = Math.Max(0, stored.TotalItems + mine.TotalItems - synced.TotalItems);
        stored.RefusedRequests = Math.Max(0, stored.RefusedRequests + mine.RefusedRequests - synced.RefusedRequests);
        (stored.QuotaDayNumber, stored.QuotaUsed) = MergeDay(
            (synced.QuotaDayNumber, synced.QuotaUsed), (mine.QuotaDayNumber, mine.QuotaUsed), (stored.QuotaDayNumber, stored.QuotaUsed));
        MergeNovel(synced, mine, stored);

        // The bucket with fewer tokens: two activations each spent from their own.
        if (mine.BucketUpdatedAt is not null && (stored.BucketUpdatedAt is null || mine.BucketTokens < stored.BucketTokens))
        {
            (stored.BucketTokens, stored.BucketUpdatedAt) = (mine.BucketTokens, mine.BucketUpdatedAt);
        }

        stored.LastSeen = Max(stored.LastSeen, mine.LastSeen);
        stored.RiskVersion = Math.Max(stored.RiskVersion, mine.RiskVersion);
        stored.Version = Math.Max(stored.Version, mine.Version);

        if (!Equals(mine.Profile, synced.Profile))
        {
            stored.Profile = mine.Profile;
        }

        if (!mine.Keys.SequenceEqual(synced.Keys))
        {
            stored.Keys = [.. mine.Keys];
        }

        if (mine.DetectorsFrom != synced.DetectorsFrom)
        {
            stored.DetectorsFrom = Math.Max(stored.DetectorsFrom, mine.DetectorsFrom);
        }

        if (mine.Risk != synced.Risk)
        {
            stored.Risk = mine.Risk;
        }

        MergeEnforcement(synced, mine, stored);

        var added = mine.Events.Except(synced.Events).Except(stored.Events).ToList();
        if (added.Count > 0)
        {
            var events = stored.Events.Concat(added).OrderBy(e => e.At).ToList();
            stored.Events = events.Count > maxEvents ? events.GetRange(events.Count - maxEvents, maxEvents) : events;
        }

        return stored;
    }

    private static void MergeEnforcement(ClientState synced, ClientState mine, ClientState stored)
    {
        var changed = mine.Enforcement != synced.Enforcement || mine.BlockedUntil != synced.BlockedUntil || mine.BlockedByAdmin != synced.BlockedByAdmin;
        if (!changed)
        {
            return;
        }

        var theirsChanged = stored.Enforcement != synced.Enforcement || stored.BlockedUntil != synced.BlockedUntil || stored.BlockedByAdmin != synced.BlockedByAdmin;
        if (!theirsChanged || mine.Enforcement > stored.Enforcement)
        {
            (stored.Enforcement, stored.BlockedUntil, stored.BlockedByAdmin) = (mine.Enforcement, mine.BlockedUntil, mine.BlockedByAdmin);
        }
        else if (mine.Enforcement == stored.Enforcement && stored.Enforcement == EnforcementState.Blocked)
        {
            // Both blocked: an admin's block stays an admin's, and the longer block holds (null: until unblocked).
            stored.BlockedByAdmin |= mine.BlockedByAdmin;
            stored.BlockedUntil = stored.BlockedUntil is null || mine.BlockedUntil is null ? null : Max(stored.BlockedUntil, mine.BlockedUntil);
        }
    }

    /// <summary>
    /// A count of one UTC day: the stored count plus this activation's increments, on the latest day.
    /// This activation's increments are its count less the synced count where both are of one day,
    /// its whole count where its day began after the synced one.
    /// </summary>
    private static (int Day, long Count) MergeDay((int Day, long Count) synced, (int Day, long Count) mine, (int Day, long Count) stored)
    {
        var increment = mine.Day == synced.Day ? mine.Count - synced.Count : mine.Count;
        if (mine.Day == stored.Day)
        {
            return (stored.Day, Math.Max(0, stored.Count + increment));
        }

        return mine.Day > stored.Day ? (mine.Day, Math.Max(0, increment)) : stored;
    }

    private static void MergeNovel(ClientState synced, ClientState mine, ClientState stored)
    {
        var storedDay = stored.NovelDayNumber;
        (stored.NovelDayNumber, stored.NovelItems) = MergeDay(
            (synced.NovelDayNumber, synced.NovelItems), (mine.NovelDayNumber, mine.NovelItems), (stored.NovelDayNumber, stored.NovelItems));
        if (stored.NovelDayNumber != mine.NovelDayNumber)
        {
            return; // the stored day is later: this activation's counts are of an earlier day
        }

        var counts = storedDay == mine.NovelDayNumber ? stored.NovelLabelCounts : [];
        var sameDay = synced.NovelDayNumber == mine.NovelDayNumber;
        for (var label = 0; label < mine.NovelLabelCounts.Count; label++)
        {
            var increment = mine.NovelLabelCounts[label] - (sameDay && label < synced.NovelLabelCounts.Count ? synced.NovelLabelCounts[label] : 0);
            while (counts.Count <= label)
            {
                counts.Add(0);
            }

            counts[label] = Math.Max(0, counts[label] + increment);
        }

        stored.NovelLabelCounts = counts;
        stored.NovelClasses = Math.Max(storedDay == mine.NovelDayNumber ? stored.NovelClasses : 0, mine.NovelClasses);
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : (a > b ? a : b);
}
