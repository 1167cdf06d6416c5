namespace ShieldCluster.Server.Grpc;

/// <summary>The HTTP endpoint's URLs as configured (<c>--urls</c> / <c>ASPNETCORE_URLS</c>), before the gRPC port joins them.</summary>
/// <param name="Value">The URLs, separated by <c>;</c>.</param>
public sealed record HttpUrls(string Value);
