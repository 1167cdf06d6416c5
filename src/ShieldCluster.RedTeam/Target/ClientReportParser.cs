using System.Text.Json;

namespace ShieldCluster.RedTeam.Target;

/// <summary>Reads a <see cref="ClientReport"/> from the admin API's JSON, tolerating missing parts.</summary>
internal static class ClientReportParser
{
    public static ClientReport Parse(string clientId, string body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var risk = root.TryGetProperty("risk", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : 0;
        var enforcement = root.TryGetProperty("enforcement", out var e) && e.ValueKind == JsonValueKind.Object
            && e.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String
            ? s.GetString()!
            : "ok";
        var worst = enforcement;
        if (root.TryGetProperty("events", out var events) && events.ValueKind == JsonValueKind.Array)
        {
            foreach (var ev in events.EnumerateArray())
            {
                if (ev.TryGetProperty("to", out var to) && to.ValueKind == JsonValueKind.String
                    && ClientReport.Severity(to.GetString()!) > ClientReport.Severity(worst))
                {
                    worst = to.GetString()!;
                }
            }
        }

        var detectors = new List<DetectorSignal>();
        if (root.TryGetProperty("detectors", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var d in list.EnumerateArray())
            {
                var name = d.TryGetProperty("name", out var n) ? n.GetString() ?? "?" : "?";
                var score = d.TryGetProperty("score", out var sc) && sc.ValueKind == JsonValueKind.Number ? sc.GetDouble() : 0;
                var monitor = d.TryGetProperty("monitorOnly", out var m) && m.ValueKind == JsonValueKind.True;
                detectors.Add(new DetectorSignal(name, score, monitor));
            }
        }

        var history = root.TryGetProperty("historyItems", out var h) && h.ValueKind == JsonValueKind.Number ? h.GetInt32() : 0;
        return new ClientReport
        {
            ClientId = clientId,
            HistoryItems = history,
            Risk = risk,
            Enforcement = enforcement,
            WorstEnforcement = worst,
            Detectors = detectors,
        };
    }
}
