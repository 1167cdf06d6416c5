using System.Text.Json;
using ShieldCluster.Cli.Admin.Clients;

namespace ShieldCluster.Cli.Tests;

/// <summary>The risk report view over hand-written JSON: a report with everything, and one the server trimmed.</summary>
public class ClientReportViewTests
{
    [Fact]
    public void Write_FullReport_ShowsEveryPart()
    {
        const string json = """
            {"clientId":"acme","plan":"gold","models":["fashion-mnist"],"source":"AdminApi",
             "limits":{"requestsPerSecond":20,"burst":40,"dailyQuota":100000},
             "usage":{"totalRequests":1234,"totalItems":5000,"itemsToday":77,"refusedRequests":3},
             "risk":0.93,"enforcement":{"state":"blocked","until":"2025-06-01T11:00:00+00:00"},
             "detectors":[{"name":"blacklight","score":0.95,"monitorOnly":false,"evidence":"7 of the last 10 queries matched [an earlier one]"},
                          {"name":"prada","score":0.2,"monitorOnly":true,"evidence":"shapiro-wilk 0.91"}],
             "events":[{"at":"2025-06-01T10:00:00+00:00","kind":"enforcement","from":"ok","to":"blocked","risk":0.93,"actor":"detector","reason":"blacklight: 7 matches"}],
             "historyItems":1000,"lastSeen":"2025-06-01T10:00:00+00:00",
             "timeline":{"minutes":[{"at":"2025-06-01T09:58:00+00:00","requests":10,"items":80},{"at":"2025-06-01T09:59:00+00:00","requests":5,"items":40}],
                         "risk":[{"at":"2025-06-01T10:00:00+00:00","risk":0.93,"state":"blocked"}]}}
            """;

        var text = Render(json);

        Assert.Contains("acme", text, StringComparison.Ordinal);
        Assert.Contains("gold", text, StringComparison.Ordinal);
        Assert.Contains("blocked until 2025-06-01 11:00:00Z", text, StringComparison.Ordinal);
        Assert.Contains("0.93", text, StringComparison.Ordinal);
        Assert.Contains("total requests", text, StringComparison.Ordinal);
        Assert.Contains("1,234", text, StringComparison.Ordinal);
        Assert.Contains("matched [an earlier one]", text, StringComparison.Ordinal);
        Assert.Matches(@"prada\s+\S+\s+0\.20\s+\S+\s+yes", text);
        Assert.Contains("blacklight: 7 matches", text, StringComparison.Ordinal);
        Assert.Contains("2 entries; 2025-06-01 09:58:00Z to 2025-06-01 09:59:00Z; requests 15 in all; items 120 in all", text, StringComparison.Ordinal);
        Assert.Contains("peak risk 0.93; last state blocked", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_MinimalReport_DoesNotFail()
    {
        var text = Render("""{"clientId":"bare","enforcement":{"state":"ok"}}""");

        Assert.Contains("bare", text, StringComparison.Ordinal);
        Assert.Contains("no signal yet", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Timeline", text, StringComparison.Ordinal);
    }

    private static string Render(string json)
    {
        var writer = new StringWriter();
        using var document = JsonDocument.Parse(json);
        ClientReportView.Write(CliConsole.Create(writer, redirected: true, noColor: true), document.RootElement);
        return writer.ToString();
    }
}
