using Microsoft.Extensions.Options;
using ShieldCluster.Server.Options;

namespace ShieldCluster.Server.Grpc;

/// <summary>Checks the gRPC port: in range, and distinct from the HTTP, silo and gateway ports.</summary>
public sealed class GrpcOptionsValidator(IOptions<ShieldOptions> shield, HttpUrls http) : IValidateOptions<GrpcOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, GrpcOptions options)
    {
        var failures = new List<string>();
        var port = options.Port;
        if (port is < 1 or > 65535)
        {
            failures.Add($"Shield:Grpc:Port must be between 1 and 65535 (got {port})");
        }

        if (port == shield.Value.SiloPort)
        {
            failures.Add($"Shield:Grpc:Port and Shield:SiloPort must differ (both {port})");
        }

        if (port == shield.Value.GatewayPort)
        {
            failures.Add($"Shield:Grpc:Port and Shield:GatewayPort must differ (both {port})");
        }

        foreach (var (url, httpPort) in GrpcEndpoints.Ports(http.Value))
        {
            if (httpPort == port)
            {
                failures.Add($"Shield:Grpc:Port {port} is also the port of the HTTP endpoint {url} (--urls / ASPNETCORE_URLS): they must differ");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
