using Prometheus;
using ShieldCluster.Server.Telemetry;
using ShieldCluster.Server.Identity;

namespace ShieldCluster.Server.Apis;

/// <summary><c>GET /metrics</c>: Prometheus' text format, for any admin role.</summary>
public static class MetricsApi
{
    /// <summary>Maps <c>/metrics</c>.</summary>
    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", async (HttpContext context, AdminAuthenticator admins, ShieldMetrics metrics) =>
        {
            await admins.AuthorizeAsync(context, changesState: false);
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        });
        return app;
    }
}
