namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>The honest traffic: how many clients, how many queries, and how messy.</summary>
public sealed record HonestClientsOptions
{
    /// <summary>Clients.</summary>
    public int Clients { get; init; } = 50;

    /// <summary>Queries per client, one image each.</summary>
    public int QueriesPerClient { get; init; } = 1000;

    /// <summary>Clients running at once.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>Share of queries that resend the previous image unchanged (a retry).</summary>
    public double RetryShare { get; init; } = 0.05;

    /// <summary>Share of queries that send a near-duplicate of an earlier image (shift, brightness, re-encoding noise).</summary>
    public double NearDuplicateShare { get; init; } = 0.03;

    /// <summary>Share of queries drawn from the pool of popular images every client sends.</summary>
    public double PopularShare { get; init; } = 0.10;

    /// <summary>Size of the popular pool.</summary>
    public int PopularImages { get; init; } = 30;

    /// <summary>The traffic for <paramref name="scale"/>.</summary>
    public static HonestClientsOptions For(AttackScale scale) =>
        scale == AttackScale.Full ? new HonestClientsOptions() : new HonestClientsOptions { Clients = 6, QueriesPerClient = 60, Concurrency = 3 };
}
