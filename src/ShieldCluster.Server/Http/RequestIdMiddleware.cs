using System.Diagnostics;
using ShieldCluster.Server.Identity;

namespace ShieldCluster.Server.Http;

/// <summary>
/// Assigns the request id, puts it on the response and into the logging scope of the request's own
/// lines, and writes one access-log line per request through <see cref="AccessLog"/> (request id in
/// the message, no scopes). The line names the client id, never a key.
/// </summary>
public sealed partial class RequestIdMiddleware(RequestDelegate next, ILoggerFactory loggers, AccessLog accessLog)
{
    private readonly ILogger _requests = loggers.CreateLogger<RequestIdMiddleware>();
    private readonly ILogger _access = accessLog.Logger;

    /// <summary>Runs the rest of the pipeline inside the request's logging scope.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var id = RequestIds.Assign(context);
        context.Response.OnStarting(() =>
        {
            RequestIds.Apply(context);
            return Task.CompletedTask;
        });
        var started = Stopwatch.GetTimestamp();
        using (_requests.BeginScope("RequestId:{RequestId}", id))
        {
            await next(context);
        }

        if (_access.IsEnabled(LogLevel.Information))
        {
            var client = context.Items.TryGetValue(typeof(ClientIdentity), out var identity) ? ((ClientIdentity)identity!).ClientId : "-";
            Log.Request(_access, context.Request.Method, context.Request.Path, context.Response.StatusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds, client, id);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "{Method} {Path} {StatusCode} {ElapsedMs:0.0} ms client {ClientId} RequestId:{RequestId}")]
        public static partial void Request(ILogger logger, string method, string path, int statusCode, double elapsedMs, string clientId, string requestId);
    }
}
