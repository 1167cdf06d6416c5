using ShieldCluster.Contracts;
using ShieldCluster.Grains.Audit;

namespace ShieldCluster.Server.Telemetry;

/// <summary>
/// The audit trail, counting as it appends: every enforcement step the detectors take, by each
/// detector whose evidence it names and the state reached (<c>shield_detections</c>).
/// </summary>
public sealed class MeteredAuditLog(IAuditLog inner, ShieldMetrics metrics) : IAuditLog
{
    /// <inheritdoc />
    public ValueTask AppendAsync(SecurityEvent entry)
    {
        if (entry.Actor == "detector" && entry.To > entry.From)
        {
            // The evidence reads "blacklight: ...; extraction (monitor only): ...".
            foreach (var part in entry.Reason.Split("; "))
            {
                var name = part.Split(':', 2)[0];
                if (!name.Contains(' ', StringComparison.Ordinal) && Protection.Risk.RiskScorer.Detectors.Contains(name))
                {
                    metrics.Detections.WithLabels(name, entry.To.ToString().ToLowerInvariant()).Inc();
                }
            }
        }

        return inner.AppendAsync(entry);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEntry>> ReadAsync(AuditQuery query, CancellationToken cancellationToken) => inner.ReadAsync(query, cancellationToken);
}
