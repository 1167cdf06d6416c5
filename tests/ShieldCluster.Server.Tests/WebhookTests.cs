using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ShieldCluster.Testing;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// Alerts reach a real webhook receiver, signed, off the request path: while the receiver fails,
/// blocks still answer at once and the alerts wait; when it recovers every alert arrives.
/// </summary>
public class WebhookTests
{
    private const string Secret = "webhook-test-secret-0123456789abcdef";

    private sealed class Factory(Uri webhook) : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            ["Shield:Alerts:WebhookUrl"] = webhook.ToString(),
            ["Shield:Alerts:Secret"] = Secret,
            ["Shield:Alerts:RetryAfter"] = "00:00:00.500",
        };
    }

    [Fact]
    public async Task ReceiverFailsThenRecovers_EveryAlertArrivesSigned_AndFailuresAreCounted()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret, failing: true);
        await using var server = new Factory(receiver.Url);
        var security = server.ClientWithKey(ShieldServerFactory.SecurityAdminKey);
        var ids = new[] { "alerted-1", "alerted-2", "alerted-3" };
        foreach (var id in ids)
        {
            Assert.Equal(HttpStatusCode.Created, (await security.PostAsJsonAsync("/admin/clients", new { clientId = id, plan = "standard" })).StatusCode);
            // The block answers at once although the receiver is down: delivery is off the request path.
            Assert.Equal(HttpStatusCode.OK, (await security.PostAsJsonAsync($"/admin/clients/{id}/block", new { reason = "webhook test" })).StatusCode);
        }

        await WaitUntilAsync(() => receiver.Refused >= 3, "the receiver refused deliveries");
        Assert.Empty(receiver.Accepted);
        receiver.Failing = false;
        await WaitUntilAsync(() => receiver.Accepted.Select(d => d.EventId).Distinct().Count() == ids.Length, "every alert delivered");

        var delivered = receiver.Accepted.ToList();
        Assert.All(delivered, d => Assert.True(d.SignatureValid, $"bad signature on {d.Body}"));
        var bodies = delivered.DistinctBy(d => d.EventId).Select(d => JsonNode.Parse(d.Body)!).ToList();
        Assert.Equal(ids, bodies.Select(b => (string)b["clientId"]!));
        Assert.All(bodies, b => Assert.Equal("blocked", (string?)b["to"]));
        Assert.All(bodies, b => Assert.Equal("sec", (string?)b["actor"]));
        // Creating or unblocking a client is audited, not alerted.
        Assert.DoesNotContain(bodies, b => (string?)b["kind"] == "created");

        var metrics = await server.ClientWithKey(ShieldServerFactory.ViewerAdminKey).GetStringAsync("/metrics");
        Assert.Contains("shield_webhook_deliveries_total{outcome=\"failed\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("shield_webhook_deliveries_total{outcome=\"delivered\"} 3", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, metrics, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}: not within 30 s");
            await Task.Delay(50);
        }
    }
}
