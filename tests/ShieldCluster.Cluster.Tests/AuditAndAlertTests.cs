using System.Net;
using System.Text.Json;
using ShieldCluster.Testing;

namespace ShieldCluster.Cluster.Tests;

/// <summary>
/// In Redis mode the audit trail is a Redis stream and alerts wait in a durable outbox: a silo
/// killed while the webhook receiver is down loses no alert, and the trail outlives every silo.
/// </summary>
public class AuditAndAlertTests
{
    private const string Secret = "cluster-webhook-secret-0123456789abcdef";

    [Fact]
    public async Task SiloKilledWhileTheReceiverIsDown_NoAlertIsLost_AndTheTrailSurvives()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret, failing: true);
        await using var cluster = await SiloCluster.StartAsync(silos: 1, new Dictionary<string, string>
        {
            ["Shield__Alerts__WebhookUrl"] = receiver.Url.ToString(),
            ["Shield__Alerts__Secret"] = Secret,
            ["Shield__Alerts__RetryAfter"] = "00:00:01",
        });
        string[] ids = ["durable-1", "durable-2"];
        foreach (var id in ids)
        {
            await cluster.CreateClientAsync(id);
            await cluster.BlockAsync(id);
        }

        await Wait.UntilAsync(() => receiver.Refused >= 2, TimeSpan.FromSeconds(60), "deliveries refused");
        cluster.Live[0].Kill();

        receiver.Failing = false;
        await cluster.AddSilosAsync(1);
        await Wait.UntilAsync(() => receiver.Accepted.Select(d => d.EventId).Distinct().Count() == ids.Length, TimeSpan.FromSeconds(60), "every alert delivered after the restart");
        Assert.All(receiver.Accepted, d => Assert.True(d.SignatureValid));
        Assert.Equal(ids, receiver.Accepted.DistinctBy(d => d.EventId).Select(d => JsonDocument.Parse(d.Body).RootElement.GetProperty("clientId").GetString()).Order());

        // The trail, read by the new silo from Redis: each client's creation and block, with the admin who did it.
        using var response = await cluster.AdminAsync(HttpMethod.Get, "/admin/events?limit=1000", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("events").EnumerateArray()
            .Select(e => (Client: e.GetProperty("clientId").GetString(), Kind: e.GetProperty("kind").GetString(), Actor: e.GetProperty("actor").GetString()))
            .Where(e => ids.Contains(e.Client)).ToList();
        Assert.Equal([("durable-1", "created", "ops"), ("durable-1", "block", "ops"), ("durable-2", "created", "ops"), ("durable-2", "block", "ops")], events);
    }
}
