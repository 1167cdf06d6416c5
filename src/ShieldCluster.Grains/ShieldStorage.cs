namespace ShieldCluster.Grains;

/// <summary>The grain storage provider ShieldCluster's grains persist to.</summary>
public static class ShieldStorage
{
    /// <summary>The storage provider's name.</summary>
    public const string Name = "shield";
}
