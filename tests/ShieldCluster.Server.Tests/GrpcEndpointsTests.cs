using ShieldCluster.Server.Grpc;
using ShieldCluster.Server.Options;

namespace ShieldCluster.Server.Tests;

/// <summary>The addresses Kestrel binds for HTTP and gRPC, and the gRPC port's validation.</summary>
public class GrpcEndpointsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080;http://127.0.0.1:8081")]
    [InlineData("http://0.0.0.0:8080", "http://0.0.0.0:8080;http://0.0.0.0:8081")]
    [InlineData("http://+:8080", "http://+:8080;http://+:8081")]
    [InlineData("http://*:8080", "http://*:8080;http://*:8081")]
    [InlineData("http://localhost:5000", "http://localhost:5000;http://localhost:8081")]
    [InlineData("http://[::1]:8080", "http://[::1]:8080;http://[::1]:8081")]
    [InlineData("http://127.0.0.1:8080; http://127.0.0.1:9090", "http://127.0.0.1:8080;http://127.0.0.1:9090;http://127.0.0.1:8081")]
    [InlineData("http://127.0.0.1:8080;http://10.0.0.5:8080", "http://127.0.0.1:8080;http://10.0.0.5:8080;http://127.0.0.1:8081;http://10.0.0.5:8081")]
    [InlineData("http://unix:/tmp/shield.sock", "http://unix:/tmp/shield.sock;http://127.0.0.1:8081")]
    public void Compose_AddsTheGrpcPortOnEveryHttpHost_KeepingTheHttpUrls(string http, string expected) =>
        Assert.Equal(expected, GrpcEndpoints.Compose(http, 8081));

    [Theory]
    [InlineData(8081, null)]
    [InlineData(0, "Shield:Grpc:Port must be between 1 and 65535 (got 0)")]
    [InlineData(70000, "Shield:Grpc:Port must be between 1 and 65535 (got 70000)")]
    [InlineData(11111, "Shield:Grpc:Port and Shield:SiloPort must differ (both 11111)")]
    [InlineData(30000, "Shield:Grpc:Port and Shield:GatewayPort must differ (both 30000)")]
    [InlineData(9090, "Shield:Grpc:Port 9090 is also the port of the HTTP endpoint http://0.0.0.0:9090")]
    public void Validator_NamesTheKey(int port, string? failure)
    {
        var validator = new GrpcOptionsValidator(Microsoft.Extensions.Options.Options.Create(new ShieldOptions()), new HttpUrls("http://127.0.0.1:8080;http://0.0.0.0:9090"));
        var result = validator.Validate(null, new GrpcOptions { Port = port });
        if (failure is null)
        {
            Assert.True(result.Succeeded);
        }
        else
        {
            Assert.Contains(result.Failures!, f => f.StartsWith(failure, StringComparison.Ordinal));
        }
    }
}
