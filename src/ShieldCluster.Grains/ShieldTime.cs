namespace ShieldCluster.Grains;

/// <summary>
/// The key under which grains resolve their <see cref="TimeProvider"/>. Keyed, so tests can drive
/// the product's clock with a fake without touching the clock Orleans itself runs on.
/// </summary>
public static class ShieldTime
{
    /// <summary>The service key of the product's <see cref="TimeProvider"/>.</summary>
    public const string Key = "shield";
}
