using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ShieldCluster.RedTeam.Target;

/// <summary>
/// A ShieldCluster deployment reached over its HTTP/JSON API: clients are registered through
/// <c>POST /admin/clients</c>, queried through the Open Inference Protocol and judged by
/// <c>GET /admin/clients/{id}</c>.
/// </summary>
public sealed class HttpTarget : ITarget, IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;
    private readonly HttpTargetOptions _options;
    private readonly TimeProvider _time;
    private readonly string _runId;
    private int _clients;

    /// <summary>Creates the target; <paramref name="runId"/> makes this run's client ids unique.</summary>
    public HttpTarget(HttpTargetOptions options, TimeProvider time, string runId, HttpMessageHandler? handler = null)
    {
        _options = options;
        _time = time;
        _runId = runId;
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = options.BaseAddress;
        _http.Timeout = options.RequestTimeout;
    }

    /// <inheritdoc />
    public string Name => _options.BaseAddress.ToString();

    /// <inheritdoc />
    public async Task CheckReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var ready = await _http.GetAsync(new Uri("/v2/health/ready", UriKind.Relative), cancellationToken);
            if (ready.StatusCode != HttpStatusCode.OK)
            {
                throw new TargetUnreachableException($"{Name} is not ready ({(int)ready.StatusCode})");
            }
        }
        catch (HttpRequestException e)
        {
            throw new TargetUnreachableException($"{Name} cannot be reached: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TargetUnreachableException($"{Name} did not answer within {_options.RequestTimeout}", e);
        }

        // The admin key must work before any attack starts, or every row would fail the same way.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/admin/clients?top=1", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.AdminKey);
        using var admin = await SendAdminAsync(request, cancellationToken);
        if (admin.StatusCode == HttpStatusCode.NotFound)
        {
            throw new TargetUnreachableException($"{Name} has no admin API (404): start it with an admin configured");
        }
    }

    /// <inheritdoc />
    public async Task<ITargetClient> CreateClientAsync(string role, string plan, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var n = Interlocked.Increment(ref _clients);
            var id = ClientId(role, n);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/admin/clients", UriKind.Relative))
            {
                Content = new StringContent(JsonSerializer.Serialize(new Dictionary<string, string> { ["clientId"] = id, ["plan"] = plan }), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.AdminKey);
            using var response = await SendAdminAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                continue;
            }

            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new TargetUnreachableException($"{Name} refused to register client '{id}' on plan '{plan}': {(int)response.StatusCode} {Trim(body)}");
            }

            using var document = JsonDocument.Parse(body);
            var key = document.RootElement.GetProperty("apiKey").GetString()
                ?? throw new TargetUnreachableException($"{Name} answered no apiKey for '{id}'");
            return new HttpTargetClient(this, id, key);
        }

        throw new TargetUnreachableException($"{Name}: every client id tried for '{role}' already exists");
    }

    /// <inheritdoc />
    public async Task<ClientReport?> GetReportAsync(string clientId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/admin/clients/{Uri.EscapeDataString(clientId)}", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.AdminKey);
        using var response = await SendAdminAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new TargetUnreachableException($"{Name}: report on '{clientId}' failed: {(int)response.StatusCode} {Trim(body)}");
        }

        return ClientReportParser.Parse(clientId, body);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    internal async Task<InferenceResponse> InferAsync(string key, ReadOnlyMemory<float> images, int count, CancellationToken cancellationToken)
    {
        if (images.Length != count * _options.Pixels)
        {
            throw new ArgumentException($"{images.Length} values are not {count} images of {_options.Pixels}", nameof(images));
        }

        var body = InferenceRequestWriter.Write(_options.InputName, images.Span, count, _options.Pixels);
        var waits = 0;
        var uri = new Uri($"/v2/models/{Uri.EscapeDataString(_options.Model)}/infer", UriKind.Relative);
        for (var transientFailures = 0; ;)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = Json;
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                if (++transientFailures <= 2)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken);
                    continue;
                }

                return InferenceResponse.Failed(ResponseKind.Unreachable, 0, e.Message, waits);
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return InferenceResponse.Failed(ResponseKind.Unreachable, 0, $"no answer within {_options.RequestTimeout}", waits);
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        try
                        {
                            return InferenceResponse.FromScores(InferenceResponseReader.ReadScores(text, count, _options.Classes), _options.Classes, waits);
                        }
                        catch (Exception e) when (e is JsonException or InvalidDataException or KeyNotFoundException or InvalidOperationException)
                        {
                            return InferenceResponse.Failed(ResponseKind.Unreachable, 200, $"unreadable answer: {e.Message}", waits);
                        }

                    case HttpStatusCode.Forbidden:
                        return InferenceResponse.Failed(ResponseKind.Blocked, 403, Trim(text), waits);
                    case HttpStatusCode.TooManyRequests:
                        var delay = RetryAfter(response);
                        if (waits >= _options.MaxRateLimitRetries || delay > _options.MaxRetryAfter)
                        {
                            return InferenceResponse.Failed(ResponseKind.RateLimited, 429, $"Retry-After {delay.TotalSeconds:0}s: {Trim(text)}", waits);
                        }

                        waits++;
                        await Task.Delay(delay, _time, cancellationToken);
                        continue;
                    case HttpStatusCode.ServiceUnavailable when ++transientFailures <= 3:
                        await Task.Delay(RetryAfter(response), _time, cancellationToken);
                        continue;
                    default:
                        var kind = (int)response.StatusCode is >= 400 and < 500 ? ResponseKind.Rejected : ResponseKind.Unreachable;
                        return InferenceResponse.Failed(kind, (int)response.StatusCode, Trim(text), waits);
                }
            }
        }
    }

    internal int Pixels => _options.Pixels;

    internal int Classes => _options.Classes;

    private async Task<HttpResponseMessage> SendAdminAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new TargetUnreachableException($"{Name} cannot be reached: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TargetUnreachableException($"{Name} did not answer within {_options.RequestTimeout}", e);
        }

        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            response.Dispose();
            throw new TargetUnreachableException($"{Name} refused the admin key ({(int)response.StatusCode}); it needs the security role");
        }

        if (response.StatusCode == HttpStatusCode.NotFound && request.Method == HttpMethod.Post)
        {
            response.Dispose();
            throw new TargetUnreachableException($"{Name} has no admin API (404): start it with an admin configured");
        }

        return response;
    }

    private static TimeSpan RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        return TimeSpan.FromSeconds(1);
    }

    private string ClientId(string role, int n)
    {
        var safe = new string(role.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        var id = $"rt-{_runId}-{safe}-{n}";
        return id.Length <= 64 ? id : $"rt-{_runId}-{n}";
    }

    private static string Trim(string text) => text.Length <= 300 ? text : text[..300] + "...";

    private sealed class HttpTargetClient(HttpTarget target, string clientId, string key) : ITargetClient
    {
        public string ClientId => clientId;

        public int Pixels => target.Pixels;

        public int Classes => target.Classes;

        public Task<InferenceResponse> InferAsync(ReadOnlyMemory<float> images, int count, CancellationToken cancellationToken) =>
            target.InferAsync(key, images, count, cancellationToken);
    }
}
