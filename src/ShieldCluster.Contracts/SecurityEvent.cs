namespace ShieldCluster.Contracts;

/// <summary>A security decision about a client, with who made it and the evidence behind it.</summary>
/// <param name="At">When.</param>
/// <param name="ClientId">The client.</param>
/// <param name="Kind"><c>enforcement</c> (a detector-driven step), <c>block</c>, <c>unblock</c>.</param>
/// <param name="From">Enforcement before.</param>
/// <param name="To">Enforcement after.</param>
/// <param name="Risk">The risk score at the time.</param>
/// <param name="Actor"><c>detector</c>, or the admin's name.</param>
/// <param name="Reason">Why: the evidence, or the admin's reason.</param>
[GenerateSerializer, Immutable, Alias("ShieldCluster.SecurityEvent")]
public sealed record SecurityEvent(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string Kind,
    [property: Id(3)] EnforcementState From,
    [property: Id(4)] EnforcementState To,
    [property: Id(5)] double Risk,
    [property: Id(6)] string Actor,
    [property: Id(7)] string Reason);
