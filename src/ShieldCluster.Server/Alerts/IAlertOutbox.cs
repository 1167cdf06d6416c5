using ShieldCluster.Contracts;

namespace ShieldCluster.Server.Alerts;

/// <summary>
/// Alerts waiting for the webhook. Delivery is at least once: an alert stays until acknowledged,
/// and one whose delivery was taken but not acknowledged comes back after the retry delay (also
/// to another silo, if the one that took it died).
/// </summary>
public interface IAlertOutbox
{
    /// <summary>Up to <paramref name="max"/> alerts due for delivery, oldest first.</summary>
    Task<IReadOnlyList<OutboxAlert>> NextAsync(int max, CancellationToken cancellationToken);

    /// <summary>Removes a delivered alert.</summary>
    Task AckAsync(OutboxAlert alert, CancellationToken cancellationToken);
}

/// <summary>An alert and its id (the audit entry's).</summary>
public sealed record OutboxAlert(string Id, SecurityEvent Event);
