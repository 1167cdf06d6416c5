using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using ShieldCluster.Testing;

namespace ShieldCluster.Console.Tests;

/// <summary>
/// One real server process with a security admin and a viewer, and one headless Chromium (Debian's,
/// driven by Playwright's bundled driver), shared by the console's browser tests.
/// </summary>
public sealed class ConsoleServer : IAsyncLifetime
{
    public const string SecurityKey = "console-tests-security-admin-key";
    public const string ViewerKey = "console-tests-viewer-admin-key";

    /// <summary>Where the browser is: Debian's chromium unless SHIELD_CHROMIUM names another.</summary>
    public static string ChromiumPath => System.Environment.GetEnvironmentVariable("SHIELD_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private ServerProcess? _server;
    private IPlaywright? _playwright;

    internal ServerProcess Server => _server ?? throw new InvalidOperationException("the server has not started");

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>An HTTP client on the server's address.</summary>
    public HttpClient Http { get; private set; } = null!;

    public static Dictionary<string, string> Environment(bool withAdmins)
    {
        var environment = new Dictionary<string, string>
        {
            // A configured client, so the server creates no demo client and prints no key.
            ["Shield__Clients__unused__ApiKeySha256"] = new string('0', 64),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        if (withAdmins)
        {
            environment["Shield__Admins__ops__ApiKeySha256"] = Sha256(SecurityKey);
            environment["Shield__Admins__ops__Role"] = "security";
            environment["Shield__Admins__watch__ApiKeySha256"] = Sha256(ViewerKey);
            environment["Shield__Admins__watch__Role"] = "viewer";
        }

        return environment;
    }

    public async Task InitializeAsync()
    {
        _server = ServerProcess.Start(Environment(withAdmins: true));
        Http = new HttpClient { BaseAddress = _server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        // The browser starts while the server does.
        var browser = LaunchBrowserAsync();
        await _server.WaitUntilReadyAsync(Http, TimeSpan.FromSeconds(60));
        (_playwright, Browser) = await browser;
    }

    private static async Task<(IPlaywright, IBrowser)> LaunchBrowserAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"no browser at {ChromiumPath}: apt-get install chromium (scripts/test.sh does it as root)");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = 60_000,
        });
        return (playwright, browser);
    }

    /// <summary>A fresh browser context (its own sessionStorage) and page, with console errors and CSP reports collected.</summary>
    public async Task<ConsolePage> OpenConsoleAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Server.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var console = new ConsolePage(context, page);
        await page.GotoAsync("/console");
        return console;
    }

    /// <summary>Creates a client through the admin API; its key.</summary>
    public async Task<string> CreateClientAsync(string clientId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/clients")
        {
            Content = JsonContent.Create(new { clientId, plan = "standard" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SecurityKey);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"creating {clientId}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("apiKey").GetString()!;
    }

    /// <summary>GET /admin/clients/{id} with the security key.</summary>
    public async Task<JsonElement> ClientReportAsync(string clientId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/admin/clients/{clientId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SecurityKey);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /admin/clients/{clientId}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>POST /v2/models/fashion-mnist/infer with a real test image (an ankle boot); the status.</summary>
    public async Task<System.Net.HttpStatusCode> InferAsync(string clientKey)
    {
        var body = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Models, "fashion-mnist", "samples", "test-0-ankle-boot.json"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/fashion-mnist/infer")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", clientKey);
        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Http?.Dispose();
    }

    private static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
