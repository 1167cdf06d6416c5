using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>When the model's batching queue is full, requests get 503 with Retry-After at once: never a 500, never unbounded memory.</summary>
public class BackPressureTests
{
    private sealed class Factory : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            ["Shield:Inference:MaxQueuedItems"] = "1",
            ["Shield:Inference:ConcurrentBatches"] = "1",
        };
    }

    [Fact]
    public async Task FullQueue_Sheds503WithRetryAfter_OthersAreServed()
    {
        await using var server = new Factory();
        var client = server.ClientWithKey(ShieldServerFactory.FuzzKey);
        var responses = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => PostAsync(client, Json(i, 1)))));

        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"status {(int)s}"));
        Assert.Contains(HttpStatusCode.OK, statuses);
        var shed = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(shed);
        foreach (var response in shed)
        {
            Assert.True(response.Headers.RetryAfter is not null, "503 without Retry-After");
            Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]);
        }
    }
}
