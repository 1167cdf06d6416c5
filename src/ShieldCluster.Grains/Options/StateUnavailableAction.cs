namespace ShieldCluster.Grains.Options;

/// <summary>What happens to a request whose client state cannot be loaded.</summary>
public enum StateUnavailableAction
{
    /// <summary>Refuse it with 503 and Retry-After (fail closed): no quota, block or detector is bypassed.</summary>
    Refuse,

    /// <summary>Serve it without admission, detectors or hardening (fail open), and log it: availability over enforcement.</summary>
    Serve,
}
