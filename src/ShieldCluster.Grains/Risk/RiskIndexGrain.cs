using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Risk;

/// <summary>
/// The cluster's index of client risk. Client grains report only changes (an enforcement step, or
/// risk moving by 0.05), so the index stays small and the riskiest clients are listed without
/// activating every client's grain. Clients at risk 0 and enforcement ok are dropped. Reports are
/// one-way and may arrive out of order: each carries the client's report version, newest wins.
/// </summary>
public sealed class RiskIndexGrain(
    [PersistentState("riskindex", ShieldStorage.Name)] IPersistentState<RiskIndexState> state) : Grain, IRiskIndexGrain
{
    /// <inheritdoc />
    public async Task ReportAsync(RiskEntry entry)
    {
        var entries = state.State.Entries;
        if (entries.TryGetValue(entry.ClientId, out var existing) && existing.Version >= entry.Version)
        {
            return;
        }

        if (entry.Risk <= 0 && entry.Enforcement == EnforcementState.Ok)
        {
            entries.Remove(entry.ClientId);
        }
        else
        {
            entries[entry.ClientId] = entry;
        }

        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RiskEntry>> TopAsync(int top) =>
        Task.FromResult<IReadOnlyList<RiskEntry>>([.. state.State.Entries.Values
            .OrderByDescending(e => e.Risk)
            .ThenByDescending(e => e.Enforcement)
            .ThenBy(e => e.ClientId, StringComparer.Ordinal)
            .Take(top)]);
}
