namespace ShieldCluster.RedTeam.Target;

/// <summary>A deployment under evaluation: registers fresh clients and reads their risk reports.</summary>
public interface ITarget
{
    /// <summary>A short name for reports (e.g. the URL).</summary>
    string Name { get; }

    /// <summary>Checks that the target answers at all; throws <see cref="TargetUnreachableException"/> otherwise.</summary>
    Task CheckReachableAsync(CancellationToken cancellationToken);

    /// <summary>Registers a new client on <paramref name="plan"/>; <paramref name="role"/> becomes part of its id.</summary>
    Task<ITargetClient> CreateClientAsync(string role, string plan, CancellationToken cancellationToken);

    /// <summary>The security team's report on a client, or null when the target has none.</summary>
    Task<ClientReport?> GetReportAsync(string clientId, CancellationToken cancellationToken);
}
