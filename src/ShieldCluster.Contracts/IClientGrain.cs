using Orleans.Concurrency;

namespace ShieldCluster.Contracts;

/// <summary>
/// One API client, keyed by its client id: admits its requests under its plan's limits and keeps
/// the bounded history of its recent queries.
/// </summary>
[Alias("ShieldCluster.IClientGrain")]
public interface IClientGrain : IGrainWithStringKey
{
    /// <summary>Admits or refuses a request of <paramref name="items"/> items under the client's plan.</summary>
    [Alias("AdmitAsync")]
    Task<Admission> AdmitAsync(int items);

    /// <summary>
    /// Admits or refuses a request made with the key whose SHA-256 is <paramref name="keyHash"/>:
    /// a key the client no longer holds (rotated out past its grace, or the client deleted and
    /// recreated) is refused as unknown, on every silo at once.
    /// </summary>
    [Alias("AdmitWithKeyAsync")]
    Task<Admission> AdmitAsync(int items, string keyHash);

    /// <summary>
    /// Takes the records and unused admissions of the front end's previous lease, then admits or
    /// refuses the request; a client in good standing that sends fast gets a new lease with the
    /// admission (<see cref="Admission.Lease"/>).
    /// </summary>
    [Alias("RenewAsync")]
    Task<Admission> RenewAsync(AdmissionRenewal renewal);

    /// <summary>
    /// The records of requests served under a lease and the admissions of a lease that ran out unused,
    /// delivered without an admission (the front end's periodic flush). Answered, not one-way: a
    /// front end keeps what failed to arrive (the grain's silo died) for its next flush.
    /// </summary>
    [Alias("RecordLeasedAsync")]
    Task RecordLeasedAsync(IReadOnlyList<QueryRecord> records, int unusedRequests, long unusedItems);

    /// <summary>
    /// Makes <paramref name="newKeyHash"/> the client's key; the keys it held stay valid until
    /// <paramref name="oldKeysValidUntil"/>. Durable and audited before it returns; false when the
    /// client does not exist or comes from configuration.
    /// </summary>
    [Alias("RotateKeyAsync")]
    Task<bool> RotateKeyAsync(string newKeyHash, DateTimeOffset oldKeysValidUntil, string actor);

    /// <summary>Deletes a client created at run time: its state, history and keys; audited. False when there is no such client or it comes from configuration.</summary>
    [Alias("DeleteAsync")]
    Task<bool> DeleteAsync(string actor);

    /// <summary>Appends a served request's compact features to the client's history.</summary>
    [OneWay]
    [Alias("RecordAsync")]
    Task RecordAsync(QueryRecord record);

    /// <summary>
    /// What the cluster-wide fingerprint index found for a recorded request: how many of its
    /// <paramref name="items"/> matched earlier queries of <paramref name="otherClients"/>.
    /// </summary>
    [OneWay]
    [Alias("ReportCrossClientMatchesAsync")]
    Task ReportCrossClientMatchesAsync(int matched, int items, IReadOnlyList<string> otherClients);

    /// <summary>The client's profile (plan, allow-list), or null if no such client exists.</summary>
    [Alias("GetProfileAsync")]
    Task<ClientProfile?> GetProfileAsync();

    /// <summary>Registers a new client; false if the id is already taken.</summary>
    [Alias("RegisterAsync")]
    Task<bool> RegisterAsync(ClientProfile profile);

    /// <summary>Registers a new client holding the key whose SHA-256 is <paramref name="keyHash"/>; audited as <paramref name="actor"/>'s. False if the id is taken.</summary>
    [Alias("RegisterWithKeyAsync")]
    Task<bool> RegisterAsync(ClientProfile profile, string keyHash, string actor);

    /// <summary>Blocks the client until <paramref name="until"/> (null: until unblocked); durable before it returns.</summary>
    [Alias("BlockAsync")]
    Task<bool> BlockAsync(string reason, DateTimeOffset? until, string actor);

    /// <summary>Unblocks the client: enforcement back to ok and risk to 0, evidence and events kept; durable before it returns.</summary>
    [Alias("UnblockAsync")]
    Task<bool> UnblockAsync(string reason, string actor);

    /// <summary>Plan, usage, risk, enforcement, detector evidence and recent security events, for the admin API.</summary>
    [Alias("GetReportAsync")]
    Task<ClientReport?> GetReportAsync();
}
