using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ShieldCluster.Server.Options;
using ShieldCluster.Testing;

namespace ShieldCluster.Deploy.Tests;

/// <summary>The real server (in process, embedded default) for its routes.</summary>
public sealed class ProbeServerFactory : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var settings = new Dictionary<string, string>
        {
            ["Shield:SiloPort"] = FreePort(),
            ["Shield:GatewayPort"] = FreePort(),
            ["Shield:ClusterId"] = "deploy-" + Guid.NewGuid().ToString("N")[..8],
            ["Shield:Inference:ModelRepository"] = RepositoryPaths.Models,
            // A configured client, so that no demo client is created and no key printed.
            ["Shield:Clients:probe:ApiKeySha256"] = new string('a', 64),
        };
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    private static string FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>Probes hit routes the server really maps, on the ports it really listens on.</summary>
public class ServerRoutesTests(ProbeServerFactory server) : IClassFixture<ProbeServerFactory>
{
    private static IEnumerable<(string Kind, V1HTTPGetAction Get)> Probes(V1Container container) =>
        new[] { ("startup", container.StartupProbe), ("readiness", container.ReadinessProbe), ("liveness", container.LivenessProbe) }
            .Select(p => (p.Item1, p.Item2?.HttpGet ?? throw new Xunit.Sdk.XunitException($"{container.Name} has no HTTP {p.Item1} probe")));

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public async Task Every_probe_path_is_a_GET_route_of_the_server_that_answers_200(string kustomization)
    {
        var container = Manifests.Render(kustomization).Server;
        var routes = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("GET") ?? true)
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .ToHashSet(StringComparer.Ordinal);
        using var client = server.CreateClient();
        foreach (var (kind, get) in Probes(container))
        {
            Assert.True(routes.Contains(get.Path), $"{kind} probe path {get.Path} is not a GET route of the server (routes: {string.Join(", ", routes.Order())})");
            Assert.Equal(HttpStatusCode.OK, await GetWhenReadyAsync(client, get.Path));
        }

        Assert.Equal("/v2/health/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/v2/health/live", container.LivenessProbe.HttpGet.Path);
    }

    /// <summary>The check itself: a path the server does not map is not 200.</summary>
    [Fact]
    public async Task A_path_the_server_does_not_map_answers_404()
    {
        using var client = server.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Probes_use_the_http_port_Kestrel_listens_on(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var container = rendering.Server;
        var urls = rendering.ServerEnvironment["ASPNETCORE_URLS"].Split(';', StringSplitOptions.RemoveEmptyEntries);
        var url = Assert.Single(urls);
        var uri = new Uri(url.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal));
        Assert.Equal("http", uri.Scheme);
        Assert.False(uri.IsLoopback, $"ASPNETCORE_URLS {url} listens on loopback only: the kubelet's probes and the Service cannot reach it");
        var http = PortNumber(container, "http");
        Assert.Equal(uri.Port, http);
        foreach (var (kind, get) in Probes(container))
        {
            Assert.True(get.Port.Value == "http" || get.Port.Value == http.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{kind} probe port {get.Port.Value} is not the http port");
            Assert.True(get.Scheme is null or "HTTP", $"{kind} probe scheme {get.Scheme}");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Container_ports_are_the_configured_silo_gateway_and_grpc_ports(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var container = rendering.Server;
        var environment = rendering.ServerEnvironment;
        var settings = ConfigurationBindingTests.ShieldSettings(environment);
        var shield = ServerConfiguration.Bind<ShieldOptions>(settings);
        Assert.Equal(shield.SiloPort, PortNumber(container, "silo"));
        Assert.Equal(shield.GatewayPort, PortNumber(container, "gateway"));
        Assert.Equal(11111, shield.SiloPort);
        Assert.Equal(30000, shield.GatewayPort);

        // gRPC: Shield__Grpc__Port when set, else the contract's default.
        var grpc = settings.TryGetValue("Shield:Grpc:Port", out var configured) ? int.Parse(configured, System.Globalization.CultureInfo.InvariantCulture) : 8081;
        Assert.Equal(grpc, PortNumber(container, "grpc"));
        Assert.Equal(4, container.Ports.Count);
        Assert.All(container.Ports, p => Assert.Equal("TCP", p.Protocol ?? "TCP"));
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void The_redis_connection_string_names_the_redis_Service_and_port(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var options = StackExchange.Redis.ConfigurationOptions.Parse(rendering.ServerEnvironment["Shield__Redis"]);
        var endpoint = Assert.IsType<DnsEndPoint>(Assert.Single(options.EndPoints));
        var service = rendering.Single<V1Service>(endpoint.Host);
        var port = Assert.Single(service.Spec.Ports, p => p.Port == endpoint.Port);
        var redis = Assert.Single(rendering.Workloads, w => Manifests.Matches(service.Spec.Selector, w.PodLabels));
        var container = Assert.Single(redis.Template.Spec.Containers);
        Assert.Contains(container.Ports, p => p.ContainerPort == endpoint.Port && (port.TargetPort.Value == p.Name || port.TargetPort.Value == p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    internal static int PortNumber(V1Container container, string name) =>
        Assert.Single(container.Ports, p => p.Name == name).ContainerPort;

    private static async Task<HttpStatusCode> GetWhenReadyAsync(HttpClient client, string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.OK || DateTime.UtcNow > deadline)
            {
                return response.StatusCode;
            }

            await Task.Delay(100);
        }
    }
}
