using System.Globalization;
using ShieldCluster.Contracts;
using StackExchange.Redis;

namespace ShieldCluster.Server.Audit;

/// <summary>An audit entry as the fields of a Redis stream entry, and back.</summary>
internal static class AuditSerialization
{
    public static NameValueEntry[] ToFields(SecurityEvent e) =>
    [
        new("at", e.At.ToString("O", CultureInfo.InvariantCulture)),
        new("client", e.ClientId),
        new("kind", e.Kind),
        new("from", (int)e.From),
        new("to", (int)e.To),
        new("risk", e.Risk.ToString("R", CultureInfo.InvariantCulture)),
        new("actor", e.Actor),
        new("reason", e.Reason),
    ];

    public static SecurityEvent FromFields(NameValueEntry[] fields)
    {
        string Get(string name) => fields.FirstOrDefault(f => f.Name == name).Value.ToString();
        return new SecurityEvent(
            DateTimeOffset.Parse(Get("at"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            Get("client"),
            Get("kind"),
            (EnforcementState)int.Parse(Get("from"), CultureInfo.InvariantCulture),
            (EnforcementState)int.Parse(Get("to"), CultureInfo.InvariantCulture),
            double.Parse(Get("risk"), CultureInfo.InvariantCulture),
            Get("actor"),
            Get("reason"));
    }
}
