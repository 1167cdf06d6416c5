using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ShieldCluster.Grains;
using ShieldCluster.Server.Hosting;
using ShieldCluster.Server.Identity;
using ShieldCluster.Testing;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// The real server (ASP.NET Core and a co-hosted Orleans silo on free loopback ports, the real
/// model repository) with test configuration and a fake clock for the product's time.
/// </summary>
public class ShieldServerFactory : WebApplicationFactory<Program>
{
    public const string AliceKey = "alice-key-for-tests";
    public const string BobKey = "bob-key-for-tests";
    public const string TightKey = "tight-key-for-tests";
    public const string DailyKey = "daily-key-for-tests";
    public const string FuzzKey = "fuzz-key-for-tests";

    /// <summary>The byte-level fuzz tests' key: they get it blocked, so no other test may rely on it.</summary>
    public const string ByteFuzzKey = "byte-fuzz-key-for-tests";
    public const string MalloryKey = "mallory-key-for-tests";
    public const string NervousKey = "nervous-key-for-tests";
    public const string SecurityAdminKey = "security-admin-key-for-tests";
    public const string ViewerAdminKey = "viewer-admin-key-for-tests";
    public const long BodyLimit = 1 << 20;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    public StringWriter DemoOutput { get; } = new();

    /// <summary>Settings on top of the defaults below; a null value removes a default.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Shield:Clients:alice:ApiKeySha256"] = ApiKeys.Hash(AliceKey),
        ["Shield:Clients:bob:ApiKeySha256"] = ApiKeys.Hash(BobKey),
        ["Shield:Clients:bob:Models:0"] = "some-other-model",
        ["Shield:Clients:tight:ApiKeySha256"] = ApiKeys.Hash(TightKey),
        ["Shield:Clients:tight:Plan"] = "tight",
        ["Shield:Clients:daily:ApiKeySha256"] = ApiKeys.Hash(DailyKey),
        ["Shield:Clients:daily:Plan"] = "daily",
        ["Shield:Clients:fuzz:ApiKeySha256"] = ApiKeys.Hash(FuzzKey),
        ["Shield:Clients:fuzz:Plan"] = "unlimited",
        ["Shield:Clients:bytefuzz:ApiKeySha256"] = ApiKeys.Hash(ByteFuzzKey),
        ["Shield:Clients:bytefuzz:Plan"] = "unlimited",
        ["Shield:Clients:mallory:ApiKeySha256"] = ApiKeys.Hash(MalloryKey),
        ["Shield:Clients:mallory:Plan"] = "unlimited",
        ["Shield:Clients:nervous:ApiKeySha256"] = ApiKeys.Hash(NervousKey),
        ["Shield:Clients:nervous:Plan"] = "nervous",
        ["Shield:Plans:nervous:Burst"] = "1000",
        ["Shield:Plans:nervous:Risk:DegradeAt"] = "0.1",
        ["Shield:Plans:nervous:Risk:ThrottleAt"] = "0.95",
        ["Shield:Plans:nervous:Risk:BlockAt"] = "1",
        ["Shield:Plans:misinform:Burst"] = "1000",
        ["Shield:Plans:misinform:Risk:ExtractionBudget"] = "8",
        ["Shield:Plans:misinform:Risk:Misinform"] = "true",
        ["Shield:Plans:tight:RequestsPerSecond"] = "1",
        ["Shield:Plans:tight:Burst"] = "5",
        ["Shield:Plans:daily:Burst"] = "1000",
        ["Shield:Plans:daily:DailyQuota"] = "3",
        ["Shield:Plans:unlimited:RequestsPerSecond"] = "100000",
        ["Shield:Plans:unlimited:Burst"] = "100000",
        ["Shield:Plans:unlimited:DailyQuota"] = "100000000",
        ["Shield:Admins:sec:ApiKeySha256"] = ApiKeys.Hash(SecurityAdminKey),
        ["Shield:Admins:sec:Role"] = "security",
        ["Shield:Admins:view:ApiKeySha256"] = ApiKeys.Hash(ViewerAdminKey),
        ["Shield:Admins:view:Role"] = "viewer",
        ["Shield:Http:MaxRequestBodyBytes"] = BodyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Shield:SiloPort"] = ShieldCluster.Testing.ServerProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Shield:GatewayPort"] = ShieldCluster.Testing.ServerProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Shield:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Shield:Inference:ModelRepository"] = RepositoryPaths.Models,
        };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        foreach (var (key, value) in settings.Where(s => s.Value is not null))
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddKeyedSingleton<TimeProvider>(ShieldTime.Key, Time);
            services.AddSingleton(new DemoKeyOutput(DemoOutput));
        });
    }

    public HttpClient ClientWithKey(string? key)
    {
        var client = CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }
}
