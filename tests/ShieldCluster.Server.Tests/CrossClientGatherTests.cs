using System.Net;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// The cluster-wide fingerprint check under a light load: requests that come within the gather delay
/// share one batch (one call per shard), counted by the server's own batch histogram.
/// </summary>
public class CrossClientGatherTests
{
    private const string BatchCount = "shield_crossclient_batch_items_count";
    private const string BatchItems = "shield_crossclient_batch_items_sum";

    private sealed class Factory(string delay) : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            ["Shield:Detection:CrossClientGatherDelay"] = delay,
        };
    }

    [Theory]
    [InlineData("00:00:01", true)]
    [InlineData("00:00:00", false)]
    public async Task RequestsOneAfterAnother_WithinTheGatherDelay_AreCheckedInOneBatch(string delay, bool gathered)
    {
        await using var server = new Factory(delay);
        var client = server.ClientWithKey(ShieldServerFactory.FuzzKey);
        var admin = server.ClientWithKey(ShieldServerFactory.ViewerAdminKey);

        // A first request (activations, compilation), checked before the measured ones are sent.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(0, 1))).StatusCode);
        var (batches, items) = await CheckedAsync(admin, atLeastItems: 1);

        // Each sent after the previous one's answer: without gathering, the check's loop has woken
        // to each alone by then.
        const int Requests = 4;
        for (var i = 1; i <= Requests; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(i, 1))).StatusCode);
        }

        var (batchesAfter, itemsAfter) = await CheckedAsync(admin, atLeastItems: items + Requests);
        Assert.Equal(items + Requests, itemsAfter);
        if (gathered)
        {
            Assert.Equal(batches + 1, batchesAfter);
        }
        else
        {
            Assert.True(batchesAfter - batches > 1, $"{Requests} requests one after another were checked in {batchesAfter - batches} batch without a gather delay");
        }
    }

    /// <summary>Batches and items checked so far, once at least <paramref name="atLeastItems"/> items were (within 15 s).</summary>
    private static async Task<(double Batches, double Items)> CheckedAsync(HttpClient admin, double atLeastItems)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var text = await admin.GetStringAsync("/metrics");
            var items = PrometheusText.Series(text, BatchItems, orZero: true);
            if (items >= atLeastItems || DateTime.UtcNow > until)
            {
                return (PrometheusText.Series(text, BatchCount, orZero: true), items);
            }

            await Task.Delay(50);
        }
    }
}
