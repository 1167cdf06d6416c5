namespace ShieldCluster.Protection.Detectors;

/// <summary>PRADA's parameters. Defaults are starting points; the red-team evaluation tunes them.</summary>
public sealed class PradaOptions
{
    /// <summary>Alarm when the Shapiro-Wilk W of the distance window falls below this. Default 0.95 (public reimplementations).</summary>
    public double Delta { get; set; } = 0.95;

    /// <summary>Distances needed before the test runs. Default 50.</summary>
    public int MinDistances { get; set; } = 50;

    /// <summary>The newest distances kept and tested (the paper keeps all; a window bounds memory and lets a client recover). Default 500.</summary>
    public int Window { get; set; } = 500;

    /// <summary>Growing-set members kept per class, oldest replaced first: bounds memory and the nearest-neighbour search. Default 32.</summary>
    public int MaxPerClass { get; set; } = 32;
}
