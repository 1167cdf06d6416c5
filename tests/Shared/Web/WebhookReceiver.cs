using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ShieldCluster.Testing;

/// <summary>
/// A real HTTP webhook receiver on a free loopback port: it answers 500 while <see cref="Failing"/>,
/// else 200, and keeps every request it got (body, headers, whether the signature checked out).
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app, Uri url, string secret)
    {
        _app = app;
        Url = url;
        Secret = secret;
    }

    public Uri Url { get; }

    public string Secret { get; }

    public volatile bool Failing;

    /// <summary>Requests answered 2xx, in arrival order.</summary>
    public ConcurrentQueue<Delivery> Accepted { get; } = new();

    /// <summary>Requests answered 500.</summary>
    public int Refused => _refused;

    private int _refused;

    public static async Task<WebhookReceiver> StartAsync(string secret, bool failing)
    {
        // The shared allocator: never a port this process already gave a server it started.
        var port = ServerProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, new Uri($"http://127.0.0.1:{port}/alerts"), secret) { Failing = failing };
        app.MapPost("/alerts", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            if (receiver.Failing)
            {
                Interlocked.Increment(ref receiver._refused);
                return Results.StatusCode(500);
            }

            var body = buffer.ToArray();
            var timestamp = context.Request.Headers["X-Shield-Timestamp"].ToString();
            var signature = context.Request.Headers["X-Shield-Signature"].ToString();
            var expected = "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + ".").Concat(body).ToArray()));
            receiver.Accepted.Enqueue(new Delivery(context.Request.Headers["X-Shield-Event-Id"].ToString(), Encoding.UTF8.GetString(body), CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature), Encoding.ASCII.GetBytes(expected))));
            return Results.Ok();
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>One accepted delivery.</summary>
    public sealed record Delivery(string EventId, string Body, bool SignatureValid);
}
