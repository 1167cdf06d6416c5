using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using ShieldCluster.Testing;

namespace ShieldCluster.Cli.Tests;

/// <summary>
/// One real server process for the whole test project, with a security admin and a viewer admin
/// configured by key hash; runs <c>shield</c> against it and checks that no output ever shows an admin key.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    /// <summary>The security admin's key (random per run).</summary>
    public string SecurityKey { get; } = "cli-security-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The viewer admin's key (random per run).</summary>
    public string ViewerKey { get; } = "cli-viewer-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    internal ServerProcess Server { get; private set; } = null!;

    internal HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>SHIELD_URL and SHIELD_ADMIN_KEY (the security admin), as an operator's shell would have them.</summary>
    internal Dictionary<string, string> Environment => new()
    {
        ["SHIELD_URL"] = Server.BaseAddress.ToString(),
        ["SHIELD_ADMIN_KEY"] = SecurityKey,
    };

    public async Task InitializeAsync()
    {
        Server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["Shield__Admins__ops__ApiKeySha256"] = Hash(SecurityKey),
            ["Shield__Admins__ops__Role"] = "security",
            ["Shield__Admins__watch__ApiKeySha256"] = Hash(ViewerKey),
            ["Shield__Admins__watch__Role"] = "viewer",
            // A configured client, so the server creates no demo client and prints no key of its own.
            ["Shield__Clients__configured__ApiKeySha256"] = new string('0', 64),
            ["Logging__LogLevel__Default"] = "Warning",
        });
        await Server.WaitUntilReadyAsync(Http, TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }

    /// <summary>Runs <c>shield args</c> with <see cref="Environment"/>; fails the test if an admin key shows anywhere.</summary>
    internal Task<CliResult> ShieldAsync(params string[] args) => ShieldAsync(Environment, args);

    internal async Task<CliResult> ShieldAsync(IReadOnlyDictionary<string, string> environment, string[] args, bool interactive = false, string? input = null)
    {
        var result = await Shield.RunAsync(environment, args, interactive, input);
        AssertNoAdminKey(result.All);
        return result;
    }

    internal void AssertNoAdminKey(string output)
    {
        Assert.DoesNotContain(SecurityKey, output, StringComparison.Ordinal);
        Assert.DoesNotContain(ViewerKey, output, StringComparison.Ordinal);
    }

    /// <summary>Classifies the real Fashion-MNIST ankle boot with <paramref name="apiKey"/>; the status code.</summary>
    internal async Task<HttpStatusCode> InferAsync(string apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Server.BaseAddress, "/v2/models/fashion-mnist/infer"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        request.Content = new StringContent(await File.ReadAllTextAsync(Sample), Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Creates a client with the CLI; its API key.</summary>
    internal async Task<string> CreateClientAsync(string id)
    {
        var created = await ShieldAsync("clients", "create", id);
        Assert.True(created.ExitCode == 0, created.ToString());
        return created.Out.Trim();
    }

    private static string Sample => Path.Combine(RepositoryPaths.Models, "fashion-mnist", "samples", "test-0-ankle-boot.json");

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
