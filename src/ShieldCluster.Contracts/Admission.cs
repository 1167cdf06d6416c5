namespace ShieldCluster.Contracts;

/// <summary>Admission control's answer for one request, with what the rate-limit headers show.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.Admission")]
public sealed record Admission(
    [property: Id(0)] AdmissionDecision Decision,
    [property: Id(1)] int RetryAfterSeconds,
    [property: Id(2)] int Limit,
    [property: Id(3)] int Remaining,
    [property: Id(4)] int ResetSeconds,
    [property: Id(5)] bool DegradeOutputs = false,
    [property: Id(6)] bool Misinform = false,
    [property: Id(7)] bool Squeeze = false)
{
    /// <summary>Whether the request may run.</summary>
    public bool Admitted => Decision == AdmissionDecision.Admitted;
}

/// <summary>What admission control decided.</summary>
[GenerateSerializer, Alias("ShieldCluster.AdmissionDecision")]
public enum AdmissionDecision
{
    /// <summary>The request may run.</summary>
    Admitted = 0,

    /// <summary>Over the plan's request rate (token bucket).</summary>
    RateLimited = 1,

    /// <summary>The plan's daily item quota is spent.</summary>
    QuotaExceeded = 2,

    /// <summary>The client is blocked.</summary>
    Blocked = 3,

    /// <summary>No such client.</summary>
    UnknownClient = 4,
}
