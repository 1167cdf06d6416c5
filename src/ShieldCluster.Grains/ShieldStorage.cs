namespace ShieldCluster.Grains;

/// <summary>The grain storage providers ShieldCluster's grains persist to.</summary>
public static class ShieldStorage
{
    /// <summary>Durable state: profiles, usage, enforcement, events, keys.</summary>
    public const string Name = "shield";

    /// <summary>
    /// Query features (the detectors' history): entries expire after
    /// <c>Shield:Protection:HistoryRetention</c> without writes, so an idle client's features are deleted.
    /// </summary>
    public const string History = "shield-history";

    /// <summary>The store behind <see cref="Name"/> (the server wraps it with retries and a circuit breaker).</summary>
    public const string Inner = "shield-store";

    /// <summary>The store behind <see cref="History"/>.</summary>
    public const string HistoryInner = "shield-history-store";
}
