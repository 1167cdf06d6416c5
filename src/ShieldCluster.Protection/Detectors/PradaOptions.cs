namespace ShieldCluster.Protection.Detectors;

/// <summary>PRADA's parameters. Defaults are starting points; the red-team evaluation tunes them.</summary>
public sealed class PradaOptions
{
    /// <summary>
    /// Alarm when the Shapiro-Wilk W of the distance window falls below this. Default 0.90: public
    /// reimplementations use 0.95 over 50 queries, but honest Fashion-MNIST clients (random test
    /// images, 40 generated clients x 1,000 queries) reached W 0.930 at worst once 150 distances were
    /// in (0.918 with 100), while synthetic extraction falls below 0.85 as soon as the test runs.
    /// </summary>
    public double Delta { get; set; } = 0.90;

    /// <summary>Distances needed before the test runs. Default 150 (W over fewer is too noisy for honest clients).</summary>
    public int MinDistances { get; set; } = 150;

    /// <summary>The newest distances kept and tested (the paper keeps all; a window bounds memory and lets a client recover). Default 500.</summary>
    public int Window { get; set; } = 500;

    /// <summary>Growing-set members kept per class, oldest replaced first: bounds memory and the nearest-neighbour search. Default 32.</summary>
    public int MaxPerClass { get; set; } = 32;
}
