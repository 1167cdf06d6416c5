using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ShieldCluster.Server.Extensions;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>Key rotation, deletion, the audit trail and /metrics through the real HTTP API.</summary>
public class SecurityOperationsTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    private HttpClient Security => server.ClientWithKey(ShieldServerFactory.SecurityAdminKey);

    private async Task<string> CreateAsync(string id)
    {
        var created = await (await Security.PostAsJsonAsync("/admin/clients", new { clientId = id, plan = "standard" })).Content.ReadFromJsonAsync<JsonObject>();
        return (string)created!["apiKey"]!;
    }

    [Fact]
    public async Task RotateKey_NoGrace_OldKeyRefusedAtOnce_NewKeyServes_Audited()
    {
        var old = await CreateAsync("rotate-now");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.ClientWithKey(old), Json(0, 1))).StatusCode);

        var rotated = await Security.PostAsJsonAsync("/admin/clients/rotate-now/rotate-key", new { });
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var body = await rotated.Content.ReadFromJsonAsync<JsonObject>();
        var fresh = (string)body!["apiKey"]!;
        Assert.StartsWith("shk_", fresh, StringComparison.Ordinal);
        Assert.NotEqual(old, fresh);

        // The old key is refused on its next request, although this silo cached its resolution.
        var refused = await PostAsync(server.ClientWithKey(old), Json(0, 1));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.ClientWithKey(fresh), Json(0, 1))).StatusCode);

        var events = await EventsAsync("?client=rotate-now");
        Assert.Equal(["created", "key-rotated"], events.Select(e => (string)e!["kind"]!));
        Assert.All(events, e => Assert.Equal("sec", (string?)e!["actor"]));
        Assert.DoesNotContain(old, events.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(fresh, events.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RotateKey_WithGrace_OldKeyWorksUntilTheGraceEnds()
    {
        var old = await CreateAsync("rotate-grace");
        var rotated = await Security.PostAsJsonAsync("/admin/clients/rotate-grace/rotate-key", new { graceMinutes = 10 });
        var until = DateTimeOffset.Parse((string)(await rotated.Content.ReadFromJsonAsync<JsonObject>())!["oldKeyValidUntil"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(server.Time.GetUtcNow().AddMinutes(10), until);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.ClientWithKey(old), Json(0, 1))).StatusCode);

        server.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server.ClientWithKey(old), Json(0, 1))).StatusCode);
    }

    [Theory]
    [InlineData("/admin/clients/ghost/rotate-key", HttpStatusCode.NotFound)]
    [InlineData("/admin/clients/alice/rotate-key", HttpStatusCode.Conflict)]
    public async Task RotateKey_UnknownOrConfiguredClient_IsRefused(string path, HttpStatusCode expected)
    {
        var response = await Security.PostAsJsonAsync(path, new { });
        Assert.Equal(expected, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]);
    }

    [Fact]
    public async Task RotateKey_BadGrace_Is400()
    {
        await CreateAsync("rotate-bad");
        var response = await Security.PostAsJsonAsync("/admin/clients/rotate-bad/rotate-key", new { graceMinutes = -1 });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Delete_RemovesTheClientAndItsKey_AndARecreatedIdDoesNotTakeTheOldKey()
    {
        var old = await CreateAsync("deleted");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.ClientWithKey(old), Json(0, 1))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Security.DeleteAsync("/admin/clients/deleted")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Security.GetAsync("/admin/clients/deleted")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server.ClientWithKey(old), Json(0, 1))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Security.DeleteAsync("/admin/clients/deleted")).StatusCode);

        var fresh = await CreateAsync("deleted");
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server.ClientWithKey(old), Json(0, 1))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.ClientWithKey(fresh), Json(0, 1))).StatusCode);
        Assert.Contains(await EventsAsync("?client=deleted"), e => (string?)e!["kind"] == "deleted" && (string?)e["actor"] == "sec");
    }

    [Fact]
    public async Task Delete_ConfiguredClient_Is409()
    {
        Assert.Equal(HttpStatusCode.Conflict, (await Security.DeleteAsync("/admin/clients/alice")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), Json(0, 1))).StatusCode);
    }

    [Fact]
    public async Task Events_FilterBySinceClientAndLimit_OldestFirst()
    {
        await CreateAsync("audited");
        await Security.PostAsJsonAsync("/admin/clients/audited/block", new { reason = "first" });
        var between = server.Time.GetUtcNow();
        server.Time.Advance(TimeSpan.FromSeconds(1));
        await Security.PostAsJsonAsync("/admin/clients/audited/unblock", new { reason = "second" });

        var all = await EventsAsync("?client=audited");
        Assert.Equal(["created", "block", "unblock"], all.Select(e => (string)e!["kind"]!));
        Assert.Equal("first", (string?)all[1]!["reason"]);
        Assert.Equal("blocked", (string?)all[1]!["to"]);
        Assert.Equal("audited", (string?)all[1]!["clientId"]);
        Assert.NotNull((string?)all[1]!["id"]);

        var since = await EventsAsync($"?client=audited&since={Uri.EscapeDataString(between.AddMilliseconds(1).ToString("O"))}");
        Assert.Equal(["unblock"], since.Select(e => (string)e!["kind"]!));
        Assert.Single(await EventsAsync("?client=audited&limit=1"));
        Assert.Equal("viewer can read", (await server.ClientWithKey(ShieldServerFactory.ViewerAdminKey).GetAsync("/admin/events")).StatusCode == HttpStatusCode.OK ? "viewer can read" : "refused");
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=1001")]
    [InlineData("?limit=many")]
    [InlineData("?since=yesterday")]
    [InlineData("?client=Not_An_Id")]
    public async Task Events_BadQuery_Is400(string query)
    {
        var response = await Security.GetAsync("/admin/events" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]);
    }

    [Fact]
    public async Task Metrics_ForAnyAdmin_CountRequestsByModelAndStatus_AndNeverShowKeys()
    {
        await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), Json(0, 2));
        await PostAsync(server.ClientWithKey("shk_wrong"), Json(0, 1));
        var response = await server.ClientWithKey(ShieldServerFactory.ViewerAdminKey).GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("shield_inference_requests_total{model=\"fashion-mnist\",status=\"200\"}", text, StringComparison.Ordinal);
        Assert.Contains("shield_inference_requests_total{model=\"unknown\",status=\"401\"}", text, StringComparison.Ordinal);
        Assert.Contains("shield_inference_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("shield_inference_batch_size", text, StringComparison.Ordinal);
        Assert.Contains("shield_execution_provider{model=\"fashion-mnist\",version=\"1\",provider=\"CPU\"} 1", text, StringComparison.Ordinal);
        // The batcher's model calls, and the items in them: at least the 2 images answered above.
        var calls = PrometheusText.Series(text, "shield_model_calls_total{model=\"fashion-mnist\",version=\"1\"}");
        var items = PrometheusText.Series(text, "shield_model_call_items_total{model=\"fashion-mnist\",version=\"1\"}");
        Assert.InRange(calls, 1, items);
        Assert.True(items >= 2, $"{items} items in the model calls");
        foreach (var secret in new[] { ShieldServerFactory.AliceKey, ShieldServerFactory.SecurityAdminKey, ShieldServerFactory.ViewerAdminKey, "shk_wrong" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    /// <summary>Every admin route refuses a missing key and a wrong key (401) and a client key (403); changing routes refuse a viewer (403).</summary>
    [Theory]
    [InlineData("GET", "/admin/clients", false)]
    [InlineData("GET", "/admin/clients/alice", false)]
    [InlineData("GET", "/admin/events", false)]
    [InlineData("GET", "/metrics", false)]
    [InlineData("POST", "/admin/clients", true)]
    [InlineData("POST", "/admin/clients/alice/block", true)]
    [InlineData("POST", "/admin/clients/alice/unblock", true)]
    [InlineData("POST", "/admin/clients/alice/rotate-key", true)]
    [InlineData("DELETE", "/admin/clients/alice", true)]
    public async Task AdminRoute_RefusesMissingWrongAndClientKeys_AndViewersWhereItChanges(string method, string path, bool changes)
    {
        async Task<HttpStatusCode> SendAsync(string? key)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST")
            {
                request.Content = JsonContent.Create(new { reason = "refused anyway" });
            }

            return (await server.ClientWithKey(key).SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(null));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync("not-an-admin-key"));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(ShieldServerFactory.AliceKey));
        if (changes)
        {
            Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(ShieldServerFactory.ViewerAdminKey));
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, await SendAsync(ShieldServerFactory.ViewerAdminKey));
        }
    }

    private async Task<JsonArray> EventsAsync(string query)
    {
        var body = await Security.GetFromJsonAsync<JsonObject>("/admin/events" + query);
        return body!["events"]!.AsArray();
    }
}

/// <summary>The Orleans Dashboard at /dashboard, behind the admin key.</summary>
public class DashboardTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    [Fact]
    public async Task Dashboard_AsksBrowsersForTheKey_RefusesClientKeys_ServesAdmins()
    {
        var anonymous = await server.CreateClient().GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.StartsWith("Basic", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await server.ClientWithKey(ShieldServerFactory.AliceKey).GetAsync("/dashboard/")).StatusCode);

        var browser = server.CreateClient();
        browser.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("anyone:" + ShieldServerFactory.ViewerAdminKey)));
        var page = await browser.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Orleans Dashboard", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ByDefault_NoGrainCallPassesTheDashboardsProfiler_WhichAServerCanAskFor()
    {
        // The default server serves the dashboard (above) without the profiler's filter on its grain calls.
        Assert.DoesNotContain(server.Services.GetServices<IIncomingGrainCallFilter>(), f => ShieldHostingExtensions.IsGrainProfiler(f.GetType()));

        await using var profiling = new ProfilingServer();
        var filters = profiling.Services.GetServices<IIncomingGrainCallFilter>().ToList();
        Assert.Contains(filters, f => ShieldHostingExtensions.IsGrainProfiler(f.GetType()));

        // Requests are served through it as without it.
        var response = await PostAsync(profiling.ClientWithKey(ShieldServerFactory.AliceKey), Json(0, 2));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await PredictionsAsync(response)).Length);
    }

    private sealed class ProfilingServer : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings =>
            new Dictionary<string, string?>(base.Settings) { ["Shield:DashboardProfiling"] = "true" };
    }
}
