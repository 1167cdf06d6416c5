using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ShieldCluster.Cli.Admin;

/// <summary>
/// Sends admin requests to a deployment and maps every failure to an exit code and a message for
/// standard error. The admin key goes only into the Authorization header: it is never part of a
/// message, an exception or a log line.
/// </summary>
internal sealed class AdminHttpClient : IDisposable
{
    private static readonly JsonSerializerOptions BodyOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;

    public AdminHttpClient(Uri baseAddress, string adminKey, TimeSpan timeout)
    {
        var root = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), AllowAutoRedirect = false })
        {
            BaseAddress = root,
            Timeout = timeout,
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("shield", typeof(AdminHttpClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    /// <summary>Whether <paramref name="key"/> can travel in an HTTP header (visible ASCII, no spaces).</summary>
    public static bool IsValidKey(string key) => key.Length > 0 && key.All(c => c is > ' ' and < '\u007f');

    /// <summary>GETs <paramref name="path"/> (relative, no leading slash) and answers the 2xx body.</summary>
    public Task<AdminAnswer> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>POSTs <paramref name="body"/> as JSON and answers the 2xx body.</summary>
    public Task<AdminAnswer> PostAsync(string path, object body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, body, cancellationToken);

    /// <summary>DELETEs <paramref name="path"/> and answers the 2xx body (usually empty: 204).</summary>
    public Task<AdminAnswer> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, path, null, cancellationToken);

    private async Task<AdminAnswer> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var route = $"{method} /{path.Split('?')[0]}";
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: BodyOptions);
        }

        HttpResponseMessage response;
        string text;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new AdminApiException(ExitCodes.ServerUnavailable, $"cannot reach {_http.BaseAddress}: {Describe(e)}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AdminApiException(ExitCodes.ServerUnavailable, $"{route}: no answer from {_http.BaseAddress} within {_http.Timeout.TotalSeconds:0} s", e);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return new AdminAnswer(response.StatusCode, text);
            }

            throw Failure(response.StatusCode, route, text);
        }
    }

    /// <summary>The exception for a non-2xx answer: the server's <c>{"error"}</c> message, or what the status says.</summary>
    internal static AdminApiException Failure(HttpStatusCode status, string route, string body)
    {
        var code = (int)status;
        var exitCode = code switch
        {
            404 => ExitCodes.NotFound,
            401 or 403 => ExitCodes.AuthFailed,
            >= 400 and < 500 => ExitCodes.Rejected,
            _ => ExitCodes.ServerUnavailable,
        };
        var message = ServerError(body);
        if (message is null)
        {
            // No {"error"} body: the status came from the framework, not from the admin API.
            message = code switch
            {
                404 => $"the server has no route {route} (it may be older than this shield, or have no admin configured)",
                405 => $"the server does not accept {route} (it may be older than this shield)",
                401 => $"{route}: the admin key was refused",
                _ => $"{route} failed",
            };
        }

        return new AdminApiException(exitCode, $"{message} (HTTP {code})");
    }

    /// <summary>The <c>error</c> member of a JSON error body, control characters removed; null when there is none.</summary>
    internal static string? ServerError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.String
                ? Printable(error.GetString()!)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Removes control characters, so a server's text cannot drive the terminal.</summary>
    internal static string Printable(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString();
    }

    private static string Describe(HttpRequestException e)
    {
        // The innermost message names the cause (connection refused, name not known) without any header.
        Exception inner = e;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return ReferenceEquals(inner, e) || e.Message.Contains(inner.Message, StringComparison.Ordinal) ? e.Message : $"{e.Message} ({inner.Message})";
    }

    public void Dispose() => _http.Dispose();
}
