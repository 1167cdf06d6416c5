using Orleans.Concurrency;

namespace ShieldCluster.Contracts;

/// <summary>
/// The cluster's index of client risk (one activation, key 0): client grains report changes to it,
/// so the riskiest clients are listed without activating every client's grain.
/// </summary>
[Alias("ShieldCluster.IRiskIndexGrain")]
public interface IRiskIndexGrain : IGrainWithIntegerKey
{
    /// <summary>Records a client's current risk and enforcement.</summary>
    [OneWay]
    [Alias("ReportAsync")]
    Task ReportAsync(RiskEntry entry);

    /// <summary>The <paramref name="top"/> riskiest clients, riskiest first.</summary>
    [Alias("TopAsync")]
    Task<IReadOnlyList<RiskEntry>> TopAsync(int top);
}

/// <summary>A client's risk as the index holds it.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.RiskEntry")]
public sealed record RiskEntry(
    [property: Id(0)] string ClientId,
    [property: Id(1)] double Risk,
    [property: Id(2)] EnforcementState Enforcement,
    [property: Id(3)] DateTimeOffset UpdatedAt,
    [property: Id(4)] long Version);
