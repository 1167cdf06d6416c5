using System.Net;
using System.Text.Json;
using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Tests;

public sealed class TargetTests
{
    [Fact]
    public void One_hot_rows_are_degraded_and_soft_rows_are_not()
    {
        Assert.True(DegradationHeuristic.IsDegraded([0f, 1f, 0f]));
        Assert.False(DegradationHeuristic.IsDegraded([0.01f, 0.99f, 0f]));
        Assert.False(DegradationHeuristic.IsDegraded([0f, 0f, 0f]));
        Assert.False(DegradationHeuristic.IsDegraded([1f, 1f, 0f]));
    }

    [Fact]
    public async Task Recorder_indexes_the_first_degraded_item_inside_a_batch()
    {
        var target = new InProcessTarget(SyntheticData.Victim, degradeAfter: 5);
        var recorder = new QueryRecorder(await target.CreateClientAsync("x", "standard", CancellationToken.None), attacker: true);
        var images = SyntheticData.Data.Test.Subset(Enumerable.Range(0, 8).ToArray()).Images;
        await recorder.InferAsync(images.AsMemory(0, 4 * 784), 4, CancellationToken.None);
        Assert.Null(recorder.FirstRefusalQuery);
        await recorder.InferAsync(images.AsMemory(4 * 784, 4 * 784), 4, CancellationToken.None);
        Assert.Equal(6, recorder.FirstRefusalQuery);
        Assert.Equal(3, recorder.DegradedItems);
        Assert.Equal(8, recorder.Queries);
    }

    [Fact]
    public async Task Http_target_registers_clients_waits_out_429_and_reads_scores_and_blocks()
    {
        var handler = new ScriptedHandler();
        using var target = new HttpTarget(new HttpTargetOptions { BaseAddress = new Uri("http://127.0.0.1:1"), AdminKey = "admin" }, TimeProvider.System, "run1", handler);
        var client = await target.CreateClientAsync("simba", "unlimited", CancellationToken.None);
        Assert.Equal("rt-run1-simba-1", client.ClientId);
        var created = JsonDocument.Parse(handler.Bodies[0]).RootElement;
        Assert.Equal("unlimited", created.GetProperty("plan").GetString());
        Assert.Equal("Bearer admin", handler.Authorizations[0]);

        var image = new float[2 * 784];
        image[3] = 0.5f;
        var response = await client.InferAsync(image, 2, CancellationToken.None);
        Assert.Equal(ResponseKind.Answered, response.Kind);
        Assert.Equal(1, response.RateLimitWaits);
        Assert.Equal([false, true], response.Degraded);
        Assert.Equal(3, response.Label(0, 10));
        Assert.Equal("Bearer shk_key", handler.Authorizations[^1]);
        var input = JsonDocument.Parse(handler.Bodies[^1]).RootElement.GetProperty("inputs")[0];
        Assert.Equal("[2,1,28,28]", input.GetProperty("shape").GetRawText());
        Assert.Equal(1568, input.GetProperty("data").GetArrayLength());
        Assert.Equal(0.5f, input.GetProperty("data")[3].GetSingle());

        var blocked = await client.InferAsync(image, 2, CancellationToken.None);
        Assert.Equal(ResponseKind.Blocked, blocked.Kind);

        var report = await target.GetReportAsync(client.ClientId, CancellationToken.None);
        Assert.NotNull(report);
        Assert.Equal("throttled", report.Enforcement);
        Assert.Equal("blocked", report.WorstEnforcement);
        Assert.True(report.Flagged);
        Assert.Equal(1.2, report.MaxDetectorScore);
    }

    [Fact]
    public async Task Http_target_reports_a_wrong_admin_key_as_unreachable()
    {
        var handler = new ScriptedHandler { AdminStatus = HttpStatusCode.Unauthorized };
        using var target = new HttpTarget(new HttpTargetOptions { BaseAddress = new Uri("http://127.0.0.1:1"), AdminKey = "bad" }, TimeProvider.System, "r", handler);
        await Assert.ThrowsAsync<TargetUnreachableException>(() => target.CreateClientAsync("x", "standard", CancellationToken.None));
    }

    private sealed class ScriptedHandler : HttpMessageHandler
    {
        private int _infers;

        public HttpStatusCode AdminStatus { get; init; } = HttpStatusCode.Created;

        public List<string> Bodies { get; } = [];

        public List<string?> Authorizations { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Bodies.Add(request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken));
            Authorizations.Add(request.Headers.Authorization?.ToString());
            var path = request.RequestUri!.AbsolutePath;
            if (path == "/admin/clients" && request.Method == HttpMethod.Post)
            {
                return Json(AdminStatus, """{"clientId":"x","apiKey":"shk_key"}""");
            }

            if (path.StartsWith("/admin/clients/", StringComparison.Ordinal))
            {
                return Json(HttpStatusCode.OK, """
                    {"clientId":"x","plan":"standard","risk":0.7,"enforcement":{"state":"throttled","until":null},
                     "detectors":[{"name":"prada","score":1.2,"monitorOnly":false,"evidence":"..."}],
                     "events":[{"at":"2026-01-01T00:00:00Z","kind":"escalation","from":"ok","to":"blocked","risk":1,"actor":"system","reason":"r"}]}
                    """);
            }

            _infers++;
            if (_infers == 1)
            {
                var limited = Json(HttpStatusCode.TooManyRequests, """{"error":"rate limit"}""");
                limited.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.Zero);
                return limited;
            }

            if (_infers == 2)
            {
                return Json(HttpStatusCode.OK, """
                    {"model_name":"fashion-mnist","model_version":"1","outputs":[{"name":"probabilities","datatype":"FP32","shape":[2,10],
                     "data":[0.01,0.01,0.01,0.9,0.01,0.01,0.01,0.02,0.01,0.01, 0,0,0,0,0,0,1,0,0,0]}]}
                    """);
            }

            return Json(HttpStatusCode.Forbidden, """{"error":"client is blocked"}""");
        }

        private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
            new(status) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
    }
}
