namespace ShieldCluster.Protection.RateLimiting;

/// <summary>What admission control decided about one request.</summary>
public enum AdmissionOutcome
{
    /// <summary>The request may run.</summary>
    Admitted = 0,

    /// <summary>The request rate exceeds the plan's token bucket.</summary>
    RateLimited = 1,

    /// <summary>The plan's daily item quota is spent.</summary>
    QuotaExceeded = 2,

    /// <summary>The client is blocked.</summary>
    Blocked = 3,

    /// <summary>No such client is registered.</summary>
    UnknownClient = 4,
}
