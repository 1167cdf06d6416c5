namespace ShieldCluster.Server.Apis;

/// <summary>The body of <c>POST /admin/clients/{id}/unblock</c>.</summary>
public sealed record UnblockRequest(string? Reason);
