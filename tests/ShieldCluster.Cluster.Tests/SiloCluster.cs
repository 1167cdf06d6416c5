using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ShieldCluster.Testing;

namespace ShieldCluster.Cluster.Tests;

/// <summary>
/// Several real silo processes in Redis mode sharing one real redis-server on loopback, each with
/// its own HTTP front end; silos can be killed, terminated and added while the others serve.
/// </summary>
internal sealed class SiloCluster : IAsyncDisposable
{
    public const string AdminKey = "cluster-tests-admin-key";

    private readonly List<ServerProcess> _silos = [];
    private readonly Dictionary<string, string> _environment;

    private SiloCluster(RedisServer redis, IReadOnlyDictionary<string, string>? extra)
    {
        Redis = redis;
        _environment = new Dictionary<string, string>
        {
            ["Shield__Redis"] = redis.ConnectionString,
            ["Shield__ClusterId"] = "cluster-tests",
            ["Shield__Detection__Salt"] = "cluster-tests-salt-0123456789",
            ["Shield__Admins__ops__ApiKeySha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))),
            ["Shield__Admins__ops__Role"] = "security",
            ["Shield__Clients__unused__ApiKeySha256"] = new string('0', 64),
            ["Shield__Plans__load__RequestsPerSecond"] = "100000",
            ["Shield__Plans__load__Burst"] = "100000",
            ["Shield__Plans__load__DailyQuota"] = "100000000",
            ["Shield__Plans__load__Risk__ExtractionBudget"] = "100000000",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            _environment[key] = value;
        }
    }

    public RedisServer Redis { get; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The silos started so far, killed ones included.</summary>
    public IReadOnlyList<ServerProcess> Silos => _silos;

    /// <summary>The silos whose process still runs.</summary>
    public IReadOnlyList<ServerProcess> Live => [.. _silos.Where(s => !s.HasExited)];

    public static async Task<SiloCluster> StartAsync(int silos, IReadOnlyDictionary<string, string>? environment = null)
    {
        var redis = await RedisServer.StartAsync();
        var cluster = new SiloCluster(redis, environment);
        try
        {
            await cluster.AddSilosAsync(silos);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A cluster on an already running <paramref name="redis"/> (the cluster disposes it).</summary>
    public static async Task<SiloCluster> StartWithRedisAsync(RedisServer redis, int silos, IReadOnlyDictionary<string, string>? environment = null)
    {
        var cluster = new SiloCluster(redis, environment);
        await cluster.AddSilosAsync(silos);
        return cluster;
    }

    /// <summary>Starts <paramref name="count"/> more silos and waits until each reports ready.</summary>
    public async Task AddSilosAsync(int count)
    {
        var started = Enumerable.Range(0, count).Select(_ => ServerProcess.Start(_environment)).ToList();
        _silos.AddRange(started);
        await Task.WhenAll(started.Select(s => s.WaitUntilReadyAsync(Http, TimeSpan.FromSeconds(120))));
    }

    /// <summary>Creates a client through the admin API of a live silo; its API key.</summary>
    public async Task<string> CreateClientAsync(string clientId, string plan = "load")
    {
        using var response = await AdminAsync(HttpMethod.Post, "/admin/clients", new { clientId, plan });
        await EnsureAsync(response, HttpStatusCode.Created);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("apiKey").GetString()!;
    }

    public async Task BlockAsync(string clientId)
    {
        using var response = await AdminAsync(HttpMethod.Post, $"/admin/clients/{clientId}/block", new { reason = "cluster test" });
        await EnsureAsync(response, HttpStatusCode.OK);
    }

    /// <summary>The client's risk report from a live silo.</summary>
    public async Task<JsonElement> ReportAsync(string clientId, ServerProcess? via = null)
    {
        using var response = await AdminAsync(HttpMethod.Get, $"/admin/clients/{clientId}", null, via);
        await EnsureAsync(response, HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, object? body, ServerProcess? via = null)
    {
        var silo = via ?? Live[0];
        using var request = new HttpRequestMessage(method, new Uri(silo.BaseAddress, path));
        request.Headers.Authorization = new("Bearer", AdminKey);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await Http.SendAsync(request);
    }

    /// <summary>One inference request with one Fashion-MNIST sample image through <paramref name="silo"/>.</summary>
    public async Task<HttpStatusCode> InferAsync(ServerProcess silo, string apiKey, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(silo.BaseAddress, "/v2/models/fashion-mnist/infer"))
        {
            Content = new ByteArrayContent(Sample),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Authorization = new("Bearer", apiKey);
        using var response = await Http.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        Http.Dispose();
        await Redis.DisposeAsync();
    }

    /// <summary>All output of every silo, for failure messages.</summary>
    public string Output => string.Join("\n", _silos.Select((s, i) => $"--- silo {i} ---\n{s.Output}"));

    private static readonly byte[] Sample = File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "fashion-mnist", "samples", "test-0-ankle-boot.json"));

    private static async Task EnsureAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
