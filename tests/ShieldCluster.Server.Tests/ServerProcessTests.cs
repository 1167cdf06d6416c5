using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using ShieldCluster.Testing;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>The server as an operator runs it: its own process, real HTTP on loopback.</summary>
public partial class ServerProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly string ValidHash = new('0', 64);

    [Theory]
    [InlineData("Shield__Http__MaxRequestBodyBytes", "lots", "Shield:Http:MaxRequestBodyBytes")]
    [InlineData("Shield__Http__MaxRequestBodyBytes", "10", "MaxRequestBodyBytes")]
    [InlineData("Shield__Plans__standard__Burst", "0", "Shield:Plans:standard:Burst")]
    [InlineData("Shield__Plans__gold__RequestsPerSecond", "-1", "Shield:Plans:gold:RequestsPerSecond")]
    [InlineData("Shield__Clients__alice__Plan", "gold", "Shield:Clients:alice:Plan")]
    [InlineData("Shield__Clients__alice__ApiKeySha256", "abc", "Shield:Clients:alice:ApiKeySha256")]
    [InlineData("Shield__Clients__Alice_2__ApiKeySha256", "0000000000000000000000000000000000000000000000000000000000000001", "Shield:Clients:Alice_2")]
    [InlineData("Shield__Admins__sec__Role", "root", "Shield:Admins:sec:Role")]
    [InlineData("Shield__Inference__Device", "tpu", "Shield:Inference:Device")]
    [InlineData("Shield__Inference__ModelRepository", "/no/such/dir", "Shield:Inference:ModelRepository")]
    [InlineData("Shield__Redis", "localhost:6379", "Shield:Redis")]
    [InlineData("Shield__SiloPort", "70000", "SiloPort")]
    [InlineData("Shield__Kubernetes", "true", "Shield:Kubernetes")]
    [InlineData("Shield__Detection__CrossClientPostingsPerHash", "40000", "CrossClientPostingsPerHash 1 to 32768")]
    [InlineData("Shield__Detection__CrossClientGatherDelay", "00:00:05", "CrossClientGatherDelay")]
    [InlineData("Shield__Protection__LeaseMaxRequests", "1", "LeaseMaxRequests")]
    [InlineData("Shield__Inference__ConcurrentBatches", "-1", "ConcurrentBatches")]
    public async Task Start_BadValue_ExitsNamingTheKey(string variable, string value, string named)
    {
        var environment = new Dictionary<string, string>
        {
            ["Shield__Clients__alice__ApiKeySha256"] = ValidHash,
            ["Shield__Admins__sec__ApiKeySha256"] = new string('1', 64),
            ["Shield__Admins__sec__Role"] = "security",
            [variable] = value,
        };
        await using var server = ServerProcess.Start(environment);
        var exitCode = await server.WaitForExitAsync(StartTimeout);
        Assert.True(exitCode != 0, $"the server exited 0 with {variable}={value}:\n{server.Output}");
        Assert.True(server.Output.Contains(named, StringComparison.Ordinal), $"'{named}' not named in:\n{server.Output}");
        Assert.Contains("ShieldCluster did not start", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmbeddedDefault_DemoKeyClassifiesRealImage_RefusesNoKey_429AfterBurst()
    {
        await using var server = ServerProcess.Start(new Dictionary<string, string>());
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await server.WaitUntilReadyAsync(http, StartTimeout);

        var key = DemoKey().Match(server.Output);
        Assert.True(key.Success, $"no demo key printed:\n{server.Output}");
        Assert.Single(DemoKey().Matches(server.Output));
        Assert.Contains("NOT durable", server.Output, StringComparison.Ordinal);

        var anonymous = await PostAsync(http, Json(0, 1));
        var anonymousId = anonymous.Headers.GetValues("X-Request-Id").Single();
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Value);
        var classified = await PostAsync(http, Json(0, 1));
        Assert.Equal(HttpStatusCode.OK, classified.StatusCode);
        Assert.Equal(FashionMnist.TestSet.Labels[0], (await PredictionsAsync(classified))[0]);

        // The standard plan's burst is 40 at 20 per second: a quick run of requests must hit 429.
        var firstRefusal = -1;
        for (var i = 0; i < 200 && firstRefusal < 0; i++)
        {
            var response = await PostAsync(http, Json(i % 100, 1));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                firstRefusal = i;
                Assert.NotNull(response.Headers.RetryAfter);
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        await WaitForAsync(() => server.Output.Contains(anonymousId, StringComparison.Ordinal));
        Assert.Contains($"RequestId:{anonymousId}", server.Output, StringComparison.Ordinal);
        Assert.True(firstRefusal >= 38, $"refused after only {firstRefusal} requests");
        Assert.True(firstRefusal > 0, "never answered 429");
        Assert.DoesNotContain(key.Value, server.Output[(key.Index + key.Length)..], StringComparison.Ordinal);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"shk_[A-Za-z0-9_-]{43}")]
    private static partial Regex DemoKey();
}
