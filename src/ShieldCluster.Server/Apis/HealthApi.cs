using System.Reflection;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Server.Hosting;

namespace ShieldCluster.Server.Apis;

/// <summary>The protocol's health and server-metadata endpoints; no key needed.</summary>
public static class HealthApi
{
    private static readonly string Version =
        typeof(HealthApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Maps <c>/v2</c>, <c>/v2/health/live</c> and <c>/v2/health/ready</c>.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2", GetServerMetadata);
        app.MapGet("/v2/health/live", () => TypedResults.Ok(new { live = true }));
        app.MapGet("/v2/health/ready", GetReady);
        return app;
    }

    /// <summary>Server metadata.</summary>
    public static IResult GetServerMetadata() =>
        TypedResults.Ok(new { name = "shieldcluster", version = Version, extensions = Extensions });

    /// <summary>The protocol extensions this server speaks (Triton's names).</summary>
    public static readonly string[] Extensions = ["binary_tensor_data"];

    /// <summary>200 when ready, 400 when not, as the protocol says.</summary>
    public static IResult GetReady(ServerReadiness readiness, ModelRepository models)
    {
        var ready = readiness.IsReady && models.Models.Count > 0;
        return ready ? TypedResults.Ok(new { ready }) : TypedResults.BadRequest(new { ready, error = "not ready" });
    }
}
