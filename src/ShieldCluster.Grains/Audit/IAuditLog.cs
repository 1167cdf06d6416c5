using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Audit;

/// <summary>
/// The append-only audit trail of security decisions: enforcement steps, blocks, unblocks, key
/// changes and admin actions, each with who decided. Redis Streams in Redis mode; a bounded
/// in-memory log in the embedded default.
/// </summary>
public interface IAuditLog
{
    /// <summary>
    /// Appends <paramref name="entry"/>. Returns once it is stored; while the store is unreachable
    /// the entry is buffered (bounded) and written, in order, when it returns: never throws for that.
    /// </summary>
    ValueTask AppendAsync(SecurityEvent entry);

    /// <summary>Entries at or after <see cref="AuditQuery.Since"/>, oldest first.</summary>
    Task<IReadOnlyList<AuditEntry>> ReadAsync(AuditQuery query, CancellationToken cancellationToken);
}

/// <summary>A read of the audit trail: from when, for which client (null: all), at most how many.</summary>
public sealed record AuditQuery(DateTimeOffset? Since, string? ClientId, int Limit);

/// <summary>One stored entry and its id in the log (ordered: later entries have larger ids).</summary>
public sealed record AuditEntry(string Id, SecurityEvent Event);

/// <summary>Which audit entries also go to the alert webhook.</summary>
public static class AlertRules
{
    /// <summary>The kind of entry the cross-client index records when an attack spans several clients.</summary>
    public const string CrossClientKind = "cross-client";

    /// <summary>A client throttled or blocked (by detectors or an admin), or an attack spanning several clients.</summary>
    public static bool IsAlert(SecurityEvent entry) =>
        entry.Kind == CrossClientKind
        || (entry.To is EnforcementState.Throttled or EnforcementState.Blocked && entry.To != entry.From);
}
