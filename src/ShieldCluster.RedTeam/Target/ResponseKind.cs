namespace ShieldCluster.RedTeam.Target;

/// <summary>How the target answered one inference request.</summary>
public enum ResponseKind
{
    /// <summary>200 with scores (some rows may be degraded, see <see cref="InferenceResponse.Degraded"/>).</summary>
    Answered,

    /// <summary>403: the client is blocked.</summary>
    Blocked,

    /// <summary>429 that did not clear within the retry cap (rate limit, quota or throttling).</summary>
    RateLimited,

    /// <summary>Another 4xx (400 bad input, 401 bad key, 404, 413): the request itself was refused.</summary>
    Rejected,

    /// <summary>No usable answer: connection failure, timeout, 5xx or an unreadable body.</summary>
    Unreachable,
}
