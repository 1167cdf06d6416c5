namespace ShieldCluster.Server.Grpc;

/// <summary>The Open Inference Protocol's gRPC endpoint, bound from <c>Shield:Grpc</c>.</summary>
public sealed class GrpcOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shield:Grpc";

    /// <summary>The default <see cref="Port"/>.</summary>
    public const int DefaultPort = 8081;

    /// <summary>
    /// The port of <c>inference.GRPCInferenceService</c>, cleartext HTTP/2, on every host the HTTP
    /// endpoint listens on (<c>--urls</c> / <c>ASPNETCORE_URLS</c>). Must differ from the HTTP, silo
    /// and gateway ports. Default 8081.
    /// </summary>
    public int Port { get; set; } = DefaultPort;
}
