using System.Globalization;
using System.Net;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

public class RateLimitTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    [Fact]
    public async Task Infer_AfterTheBurst_Is429WithRetryAfter_ThenRecoversWithTime()
    {
        var client = server.ClientWithKey(ShieldServerFactory.TightKey);
        for (var i = 0; i < 5; i++)
        {
            var admitted = await PostAsync(client, Json(i, 1));
            Assert.True(admitted.StatusCode == HttpStatusCode.OK, $"request {i + 1} of a burst of 5: {admitted.StatusCode}");
            Assert.Equal((4 - i).ToString(CultureInfo.InvariantCulture), admitted.Headers.GetValues("RateLimit-Remaining").Single());
        }

        var refused = await PostAsync(client, Json(5, 1));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter!.Delta);
        Assert.Equal("rate limit exceeded", await ErrorAsync(refused));
        Assert.Equal("0", refused.Headers.GetValues("RateLimit-Remaining").Single());

        server.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(6, 1))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostAsync(client, Json(7, 1))).StatusCode);
    }

    [Fact]
    public async Task Infer_DailyQuotaInItems_Is429UntilUtcMidnight_ThenResets()
    {
        var client = server.ClientWithKey(ShieldServerFactory.DailyKey);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(0, 2))).StatusCode);
        var over = await PostAsync(client, Json(2, 2));
        Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
        Assert.Equal("daily quota exceeded", await ErrorAsync(over));
        var now = server.Time.GetUtcNow();
        var untilMidnight = now.UtcDateTime.Date.AddDays(1) - now.UtcDateTime;
        Assert.Equal(Math.Ceiling(untilMidnight.TotalSeconds), over.Headers.RetryAfter!.Delta!.Value.TotalSeconds);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(2, 1))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostAsync(client, Json(3, 1))).StatusCode);

        server.Time.Advance(untilMidnight - TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostAsync(client, Json(3, 1))).StatusCode);
        server.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(3, 3))).StatusCode);
    }
}

public class ProtectionOffTests(ProtectionOffTests.Factory server) : IClassFixture<ProtectionOffTests.Factory>
{
    public sealed class Factory : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings =>
            new Dictionary<string, string?>(base.Settings) { ["Shield:Protection:Enabled"] = "false" };
    }

    [Fact]
    public async Task Infer_ProtectionOff_KeepsIdentityButNoQuota()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server.ClientWithKey("nobody"), Json(0, 1))).StatusCode);
        var client = server.ClientWithKey(ShieldServerFactory.TightKey);
        for (var i = 0; i < 8; i++)
        {
            var response = await PostAsync(client, Json(i, 1));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("RateLimit-Limit"));
        }
    }
}
