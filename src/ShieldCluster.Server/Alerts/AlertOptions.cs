namespace ShieldCluster.Server.Alerts;

/// <summary>The alert webhook, bound from <c>Shield:Alerts</c>.</summary>
public sealed class AlertOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shield:Alerts";

    /// <summary>Where alerts are POSTed (http or https). Unset: no webhook (alerts stay in the audit trail).</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>
    /// The HMAC-SHA256 key the webhook's signature uses (32+ characters; required with
    /// <see cref="WebhookUrl"/>; never logged).
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>How long one delivery may take. Default 10 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a failed delivery waits before it is tried again. Default 5 s.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public override string ToString() => $"AlertOptions {{ WebhookUrl = {WebhookUrl}, Secret = *** }}";
}
