using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Storage;
using ShieldCluster.Grains;
using ShieldCluster.Grains.Clients;
using ShieldCluster.Server.Identity;
using ShieldCluster.Server.Storage;
using ShieldCluster.Server.Telemetry;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// A graceful stop through the real host: what the front end's admission leases hold reaches the
/// client grains before they write their state and deactivate.
/// </summary>
public class GracefulStopTests
{
    private const string FastKey = "fast-key-for-stop-tests";

    private sealed class Factory : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            ["Shield:Clients:fast:ApiKeySha256"] = ApiKeys.Hash(FastKey),
            ["Shield:Clients:fast:Plan"] = "unlimited",
            // A long lease and the slowest flush: the leased requests' records stay on the front end
            // (and the lease's unused admissions with them) until something delivers them.
            ["Shield:Protection:AdmissionLease"] = "00:00:10",
            ["Shield:Protection:LeaseFlushInterval"] = "00:00:01",
            ["Shield:Protection:Squeezing"] = "Never",
        };

        /// <summary>The host, kept so the test can stop it (and read the store) before the container is disposed.</summary>
        public IHost? Host { get; private set; }

        protected override IHost CreateHost(IHostBuilder builder)
        {
            var host = base.CreateHost(builder);
            Host = host;
            return host;
        }
    }

    [Fact]
    public async Task Stop_LeasedRecordsAndUnusedAdmissions_ReachTheGrainBeforeItWritesItsState()
    {
        await using var server = new Factory();
        var client = server.ClientWithKey(FastKey);
        var store = Assert.IsType<InProcessGrainStorage>(server.Services.GetRequiredKeyedService<IGrainStorage>(ShieldStorage.Inner));
        var metrics = server.Services.GetRequiredService<ShieldMetrics>();

        // 300 requests in one second of the product's clock, then a second on: the client earns a lease.
        for (var i = 0; i < 300; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(i, 1))).StatusCode);
        }

        server.Time.Advance(TimeSpan.FromSeconds(1));
        var leasedBefore = metrics.Admissions.WithLabels("lease").Value;
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(300 + i, 1))).StatusCode);
        }

        // The first of the 20 asked the grain and brought the lease; the others were admitted under it.
        Assert.Equal(19, metrics.Admissions.WithLabels("lease").Value - leasedBefore);

        // A graceful stop: the web server, then the silo, whose grains write their state as they deactivate.
        await server.Host!.StopAsync();
        var state = store.StoredCopy<ClientState>("client", GrainId.Create("client", "fast"));

        // Every request counted once: the lease's unused admissions came back and its 19 records arrived.
        Assert.NotNull(state);
        Assert.Equal(320, state.TotalRequests);
        Assert.Equal(320, state.TotalItems);
    }
}
