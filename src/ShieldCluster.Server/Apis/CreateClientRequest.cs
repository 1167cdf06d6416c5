namespace ShieldCluster.Server.Apis;

/// <summary>The body of <c>POST /admin/clients</c>.</summary>
public sealed record CreateClientRequest(string? ClientId, string? Plan, List<string>? Models);
