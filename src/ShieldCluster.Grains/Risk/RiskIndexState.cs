using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Risk;

/// <summary>What the risk index keeps: each reported client's latest entry.</summary>
[GenerateSerializer, Alias("ShieldCluster.RiskIndexState")]
public sealed class RiskIndexState
{
    /// <summary>Entries by client id.</summary>
    [Id(0)] public Dictionary<string, RiskEntry> Entries { get; set; } = [];
}
