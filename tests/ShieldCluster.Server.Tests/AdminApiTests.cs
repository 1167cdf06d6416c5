using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

public class AdminApiTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    private HttpClient Security => server.ClientWithKey(ShieldServerFactory.SecurityAdminKey);

    [Fact]
    public async Task CreateClient_KeyIsAnsweredOnce_AndServesInference()
    {
        var created = await Security.PostAsJsonAsync("/admin/clients", new { clientId = "acme", plan = "standard", models = new[] { "fashion-mnist" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("acme", (string?)body!["clientId"]);
        var key = (string)body["apiKey"]!;
        Assert.StartsWith("shk_", key, StringComparison.Ordinal);
        Assert.True(key.Length > 40);

        var inference = await PostAsync(server.ClientWithKey(key), Json(0, 4));
        Assert.Equal(HttpStatusCode.OK, inference.StatusCode);

        var report = await Security.GetFromJsonAsync<JsonObject>("/admin/clients/acme");
        Assert.Equal("standard", (string?)report!["plan"]);
        Assert.Equal(1, (long)report["usage"]!["totalRequests"]!);
        Assert.Equal(4, (long)report["usage"]!["itemsToday"]!);
        Assert.Equal(100_000, (long)report["limits"]!["dailyQuota"]!);
        Assert.DoesNotContain(key, report.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateClient_ExistingId_Is409_ConfiguredIdToo()
    {
        Assert.Equal(HttpStatusCode.Created, (await Security.PostAsJsonAsync("/admin/clients", new { clientId = "dup", plan = "standard" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Security.PostAsJsonAsync("/admin/clients", new { clientId = "dup", plan = "standard" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Security.PostAsJsonAsync("/admin/clients", new { clientId = "alice", plan = "standard" })).StatusCode);
    }

    [Theory]
    [InlineData("{\"clientId\":\"Bad_Id\",\"plan\":\"standard\"}", "clientId must match")]
    [InlineData("{\"clientId\":\"ok-id\",\"plan\":\"platinum\"}", "unknown plan 'platinum'")]
    [InlineData("{\"clientId\":\"ok-id2\",\"models\":[\"resnet\"]}", "unknown model 'resnet'")]
    [InlineData("{\"clientId\":", "expected a JSON body")]
    [InlineData("{\"clientId\":7}", "expected a JSON body")]
    public async Task CreateClient_BadBody_Is400(string json, string expected)
    {
        var response = await Security.PostAsync("/admin/clients", Content(json));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ErrorAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetClient_ConfiguredClient_ShowsPlanAndUsage_UnknownIs404()
    {
        await PostAsync(server.ClientWithKey(ShieldServerFactory.BobKey), Json(0, 1));
        var bob = await server.ClientWithKey(ShieldServerFactory.ViewerAdminKey).GetFromJsonAsync<JsonObject>("/admin/clients/bob");
        Assert.Equal("standard", (string?)bob!["plan"]);
        Assert.Equal("Configuration", (string?)bob["source"]);
        Assert.Equal(["some-other-model"], bob["models"]!.AsArray().Select(m => (string)m!));
        Assert.Equal(HttpStatusCode.NotFound, (await Security.GetAsync("/admin/clients/nobody-here")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Security.GetAsync("/admin/clients/NOT_AN_ID")).StatusCode);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("wrong-key", HttpStatusCode.Unauthorized)]
    [InlineData(ShieldServerFactory.AliceKey, HttpStatusCode.Forbidden)]
    [InlineData(ShieldServerFactory.ViewerAdminKey, HttpStatusCode.Forbidden)]
    public async Task CreateClient_WithoutSecurityRole_IsRefused(string? key, HttpStatusCode expected)
    {
        var response = await server.ClientWithKey(key).PostAsJsonAsync("/admin/clients", new { clientId = "sneaky", plan = "standard" });
        Assert.Equal(expected, response.StatusCode);
        Assert.NotEmpty(await ErrorAsync(response));
        Assert.Equal(HttpStatusCode.NotFound, (await Security.GetAsync("/admin/clients/sneaky")).StatusCode);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData(ShieldServerFactory.AliceKey, HttpStatusCode.Forbidden)]
    public async Task GetClient_WithoutAdminKey_IsRefused(string? key, HttpStatusCode expected)
    {
        Assert.Equal(expected, (await server.ClientWithKey(key).GetAsync("/admin/clients/alice")).StatusCode);
    }
}

public class NoAdminTests(NoAdminTests.Factory server) : IClassFixture<NoAdminTests.Factory>
{
    public sealed class Factory : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings =>
            base.Settings.Where(s => !s.Key.StartsWith("Shield:Admins", StringComparison.Ordinal)).ToDictionary();
    }

    [Theory]
    [InlineData(ShieldServerFactory.SecurityAdminKey)]
    [InlineData(ShieldServerFactory.AliceKey)]
    [InlineData(null)]
    public async Task AdminRoutes_NoAdminConfigured_Are404(string? key)
    {
        var client = server.ClientWithKey(key);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/admin/clients/alice")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("/admin/clients", new { clientId = "x", plan = "standard" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/admin/events")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/dashboard/")).StatusCode);
    }
}

public class DemoClientTests(DemoClientTests.Factory server) : IClassFixture<DemoClientTests.Factory>
{
    public sealed class Factory : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings =>
            base.Settings.Where(s => !s.Key.StartsWith("Shield:Clients", StringComparison.Ordinal)).ToDictionary();
    }

    [Fact]
    public async Task NoClientConfigured_DemoKeyIsPrintedOnce_AndWorks()
    {
        Assert.Equal(HttpStatusCode.OK, (await server.CreateClient().GetAsync("/v2/health/ready")).StatusCode);
        var printed = server.DemoOutput.ToString();
        var keys = System.Text.RegularExpressions.Regex.Matches(printed, @"shk_[A-Za-z0-9_-]{43}");
        var key = Assert.Single(keys).Value;
        Assert.Contains("'demo'", printed, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.ClientWithKey(key), Json(0, 1))).StatusCode);
        var report = await server.ClientWithKey(ShieldServerFactory.SecurityAdminKey).GetFromJsonAsync<JsonObject>("/admin/clients/demo");
        Assert.Equal("standard", (string?)report!["plan"]);
        Assert.Equal("Demo", (string?)report["source"]);
    }
}
