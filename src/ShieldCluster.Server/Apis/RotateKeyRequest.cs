namespace ShieldCluster.Server.Apis;

/// <summary>The body of <c>POST /admin/clients/{id}/rotate-key</c> (optional): how long the old key keeps working.</summary>
public sealed record RotateKeyRequest(int? GraceMinutes);
