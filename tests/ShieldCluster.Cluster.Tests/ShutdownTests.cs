using System.Net;
using Xunit.Abstractions;

namespace ShieldCluster.Cluster.Tests;

/// <summary>
/// SIGTERM (what Kubernetes sends a pod it scales in or replaces): the silo stops taking requests,
/// finishes those in flight, and its grains write their state before the process exits.
/// </summary>
public class ShutdownTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sigterm_FinishesInFlightRequests_AndWritesEveryAdmittedItem()
    {
        await using var cluster = await SiloCluster.StartAsync(silos: 1, new Dictionary<string, string>
        {
            // Far longer than the test: only the drain can have written the usage.
            ["Shield__Protection__StateWriteInterval"] = "00:10:00",
        });
        var key = await cluster.CreateClientAsync("drained");
        var silo = cluster.Live[0];
        var load = new LoadGenerator(cluster, new Dictionary<string, string> { ["drained"] = key }, concurrencyPerClient: 8);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(stop.Token);
        await Wait.UntilAsync(() => load.Served("drained") >= 50, TimeSpan.FromSeconds(60), "50 requests served");

        var terminated = load.Now;
        silo.Terminate();
        var exitCode = await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await running;

        var outcomes = load.Outcomes["drained"].ToList();
        var served = outcomes.Count(o => o.Status == HttpStatusCode.OK);
        var unanswered = outcomes.Count(o => o.Status == 0);
        output.WriteLine($"exit {exitCode}; {served} served, {unanswered} without an HTTP answer (sent after the listener closed), others: {string.Join(", ", outcomes.Where(o => o.Status is not HttpStatusCode.OK and not 0).Select(o => (int)o.Status))}");
        Assert.Equal(0, exitCode);
        // Requests already answered-for when SIGTERM came were finished, not dropped.
        Assert.DoesNotContain(outcomes, o => o.Status == 0 && o.Sent < terminated);
        // Every request got a whole answer, or none because the listener had already closed: no 5xx, no torn responses.
        Assert.All(outcomes, o => Assert.True(o.Status is HttpStatusCode.OK or 0, $"status {(int)o.Status} at {o.At:F2}s"));

        var state = await StoredState.ClientAsync(cluster.Redis, "drained");
        Assert.NotNull(state);
        // Each request is one item; admitted requests whose connection then closed may count too.
        Assert.InRange(state.QuotaUsed, served, served + unanswered);
        var history = await StoredState.HistoryAsync(cluster.Redis, "drained");
        Assert.Equal(Math.Min(served, 1000), history!.Records.Sum(r => r.Items.Count), 0.0 + unanswered);
    }
}
