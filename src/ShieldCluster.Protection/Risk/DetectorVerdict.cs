namespace ShieldCluster.Protection.Risk;

/// <summary>One detector's contribution to a client's risk.</summary>
/// <param name="Detector">The detector's name.</param>
/// <param name="Score">Its score in [0, 1].</param>
/// <param name="MonitorOnly">True when enforcement ignores it.</param>
/// <param name="Evidence">What it saw, in words and numbers.</param>
public sealed record DetectorVerdict(string Detector, double Score, bool MonitorOnly, string Evidence);
