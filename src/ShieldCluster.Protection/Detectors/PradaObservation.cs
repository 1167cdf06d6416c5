namespace ShieldCluster.Protection.Detectors;

/// <summary>What PRADA made of one query.</summary>
/// <param name="Distance">Distance to the nearest earlier member of the query's class set; null for a class's first query or a skipped duplicate.</param>
/// <param name="W">The Shapiro-Wilk W of the distance window, once it holds enough distances.</param>
/// <param name="Alarm">Whether W is below the threshold.</param>
/// <param name="Distances">Distances in the window.</param>
public readonly record struct PradaObservation(double? Distance, double? W, bool Alarm, int Distances);
