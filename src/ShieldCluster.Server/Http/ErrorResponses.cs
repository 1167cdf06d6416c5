using System.Text.Json;

namespace ShieldCluster.Server.Http;

/// <summary>Writes error bodies: <c>{"error": "..."}</c>.</summary>
public static class ErrorResponses
{
    /// <summary>Writes <paramref name="statusCode"/> with a JSON error body, unless the response has started.</summary>
    public static async Task WriteAsync(HttpContext context, int statusCode, string message, int? retryAfterSeconds = null)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        // Headers already set (rate limits, request id) stay: a 429 carries its rate-limit state.
        context.Response.StatusCode = statusCode;
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (statusCode == StatusCodes.Status401Unauthorized && context.Response.Headers.WWWAuthenticate.Count == 0)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        RequestIds.Apply(context);
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("error", message);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }
}
