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
    [property: Id(7)] bool Squeeze = false,
    [property: Id(8)] AdmissionLease? Lease = null)
{
    /// <summary>Whether the request may run.</summary>
    public bool Admitted => Decision == AdmissionDecision.Admitted;
}

/// <summary>
/// Admissions the client's grain hands a front end in advance, for a client in good standing that
/// sends fast: the front end admits up to <paramref name="Requests"/> more requests (and
/// <paramref name="Items"/> items) itself within <paramref name="Milliseconds"/>, without a grain
/// call each, and reports their records in batches. The tokens and items are taken from the
/// client's bucket and quota when granted; unused ones are given back with the next renewal.
/// </summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.AdmissionLease")]
public sealed record AdmissionLease(
    [property: Id(0)] int Requests,
    [property: Id(1)] long Items,
    [property: Id(2)] int Milliseconds);

/// <summary>
/// A front end's admission call for a client it may hold a lease for: the records of the requests it
/// served under the previous lease (the grain's detectors see them before it decides) and the
/// admissions of that lease it did not use (given back to the bucket and quota).
/// </summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.AdmissionRenewal")]
public sealed record AdmissionRenewal(
    [property: Id(0)] int Items,
    [property: Id(1)] string? KeyHash,
    [property: Id(2)] IReadOnlyList<QueryRecord> Records,
    [property: Id(3)] int UnusedRequests = 0,
    [property: Id(4)] long UnusedItems = 0);

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
