namespace ShieldCluster.Server.Apis;

/// <summary>The body of <c>POST /admin/clients/{id}/block</c>.</summary>
public sealed record BlockRequest(string? Reason, int? Minutes);
