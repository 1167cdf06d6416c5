using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using ShieldCluster.Server.Telemetry;

namespace ShieldCluster.Server.Alerts;

/// <summary>
/// Delivers the outbox's alerts to the webhook, in order, off the request path: each POST is signed
/// (<c>X-Shield-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + body))</c>, with
/// <c>X-Shield-Timestamp</c> and <c>X-Shield-Event-Id</c> for deduplication), retried with backoff, and
/// a circuit breaker pauses delivery while the receiver keeps failing. Failures are counted and
/// logged; an alert leaves the outbox only when the receiver answered 2xx.
/// </summary>
public sealed partial class WebhookDispatcher(
    IAlertOutbox outbox,
    IHttpClientFactory httpClients,
    IOptions<AlertOptions> options,
    ShieldMetrics metrics,
    TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    /// <summary>The named HttpClient deliveries use.</summary>
    public const string HttpClientName = "shield-webhook";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
        .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            ShouldHandle = Failed,
            FailureRatio = 0.8,
            MinimumThroughput = 5,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(5),
        })
        .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            ShouldHandle = Failed,
            MaxRetryAttempts = 2,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    /// <summary>The signature of <paramref name="body"/> at <paramref name="timestamp"/> (unix seconds) under <paramref name="secret"/>.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var message = new byte[Encoding.UTF8.GetByteCount(timestamp) + 1 + body.Length];
        var written = Encoding.UTF8.GetBytes(timestamp, message);
        message[written] = (byte)'.';
        body.CopyTo(message.AsSpan(written + 1));
        return "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.WebhookUrl is null)
        {
            return;
        }

        var idle = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var due = await outbox.NextAsync(16, stoppingToken);
                var failed = false;
                foreach (var alert in due)
                {
                    if (!await DeliverAsync(settings, alert, stoppingToken))
                    {
                        failed = true;
                        break; // in order: the rest wait for this one
                    }

                    await outbox.AckAsync(alert, stoppingToken);
                }

                if (due.Count == 0 || failed)
                {
                    await Task.Delay(failed ? settings.RetryAfter / 5 : idle, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The outbox's store is away (Redis down): try again shortly.
                Log.OutboxFailed(logger, ex);
                await Task.Delay(settings.RetryAfter, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<bool> DeliverAsync(AlertOptions settings, OutboxAlert alert, CancellationToken cancellationToken)
    {
        var e = alert.Event;
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            id = alert.Id,
            at = e.At,
            clientId = e.ClientId,
            kind = e.Kind,
            from = e.From.ToString().ToLowerInvariant(),
            to = e.To.ToString().ToLowerInvariant(),
            risk = e.Risk,
            actor = e.Actor,
            reason = e.Reason,
        }, Json);
        try
        {
            using var response = await _pipeline.ExecuteAsync(async ct =>
            {
                var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                using var request = new HttpRequestMessage(HttpMethod.Post, settings.WebhookUrl) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Add("X-Shield-Event-Id", alert.Id);
                request.Headers.Add("X-Shield-Timestamp", timestamp);
                request.Headers.Add("X-Shield-Signature", Sign(settings.Secret!, timestamp, body));
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(settings.Timeout);
                return await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            }, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                metrics.WebhookDeliveries.WithLabels("delivered").Inc();
                return true;
            }

            Log.Rejected(logger, alert.Id, (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or BrokenCircuitException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.Unreachable(logger, alert.Id, ex.GetType().Name);
        }

        metrics.WebhookDeliveries.WithLabels("failed").Inc();
        return false;
    }

    private static ValueTask<bool> Failed(RetryPredicateArguments<HttpResponseMessage> args) =>
        ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or OperationCanceledException || args.Outcome.Result is { IsSuccessStatusCode: false });

    private static ValueTask<bool> Failed(CircuitBreakerPredicateArguments<HttpResponseMessage> args) =>
        ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or OperationCanceledException || args.Outcome.Result is { IsSuccessStatusCode: false });

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Alert webhook answered {Status} for alert {AlertId}; it stays in the outbox and is tried again")]
        public static partial void Rejected(ILogger logger, string alertId, int status);

        [LoggerMessage(2, LogLevel.Warning, "Alert webhook unreachable for alert {AlertId} ({Reason}); it stays in the outbox and is tried again")]
        public static partial void Unreachable(ILogger logger, string alertId, string reason);

        [LoggerMessage(3, LogLevel.Warning, "Alert outbox unavailable; delivery pauses")]
        public static partial void OutboxFailed(ILogger logger, Exception exception);
    }
}
