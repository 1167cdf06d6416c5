namespace ShieldCluster.RedTeam.Target;

/// <summary>One detector's score on a client, from the admin report.</summary>
/// <param name="Name">The detector.</param>
/// <param name="Score">Its score; 1 or more means it fired.</param>
/// <param name="MonitorOnly">Whether it only observes (its score does not enforce).</param>
public sealed record DetectorSignal(string Name, double Score, bool MonitorOnly);
