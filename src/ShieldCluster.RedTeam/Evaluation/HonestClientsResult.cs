namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>What the honest clients experienced on one target.</summary>
public sealed record HonestClientsResult
{
    /// <summary>"protected" or "baseline".</summary>
    public required string Target { get; init; }

    /// <summary>Honest clients run.</summary>
    public int Clients { get; init; }

    /// <summary>Queries each client planned.</summary>
    public int QueriesPerClient { get; init; }

    /// <summary>Queries sent in all.</summary>
    public int Queries { get; init; }

    /// <summary>Clients ever degraded, throttled or blocked (enforcement events, 403s, degraded answers).</summary>
    public int ClientsFlagged { get; init; }

    /// <summary><see cref="ClientsFlagged"/> over <see cref="Clients"/>.</summary>
    public double ShareClientsFlagged { get; init; }

    /// <summary>Clients on which some detector reached 1 (may be monitor-only, no enforcement).</summary>
    public int ClientsWithDetectorFiring { get; init; }

    /// <summary>Honest queries answered degraded.</summary>
    public int DegradedQueries { get; init; }

    /// <summary><see cref="DegradedQueries"/> over <see cref="Queries"/>.</summary>
    public double ShareQueriesDegraded { get; init; }

    /// <summary>Honest requests refused (403 or 400).</summary>
    public int Refusals { get; init; }

    /// <summary>429s waited out (the plan's own rate limit: normal, not counted as flagged).</summary>
    public int RateLimitWaits { get; init; }

    /// <summary>The flagged clients, with why.</summary>
    public IReadOnlyList<string> Flagged { get; init; } = [];

    /// <summary>Set when the honest run could not finish.</summary>
    public string? Error { get; init; }
}
