namespace ShieldCluster.Server.Http;

/// <summary>Assigns the request id, puts it on the response and into the logging scope.</summary>
public sealed class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    /// <summary>Runs the rest of the pipeline inside the request's logging scope.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var id = RequestIds.Assign(context);
        context.Response.OnStarting(() =>
        {
            RequestIds.Apply(context);
            return Task.CompletedTask;
        });
        using (logger.BeginScope(new KeyValuePair<string, object>[] { new("RequestId", id) }))
        {
            await next(context);
        }
    }
}
