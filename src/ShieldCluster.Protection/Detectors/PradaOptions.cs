namespace ShieldCluster.Protection.Detectors;

/// <summary>PRADA's parameters. Defaults are starting points; the red-team evaluation tunes them.</summary>
public sealed class PradaOptions
{
    /// <summary>
    /// Alarm when the Shapiro-Wilk W of the distance window falls below this. Default 0.85: public
    /// reimplementations use 0.95 over 50 queries, but honest Fashion-MNIST clients reached W 0.918
    /// (random test images, 40 generated clients x 1,000 queries, 100 distances) and 0.824 (the
    /// red-team's honest clients with popular images and edits, 150 distances), while synthetic
    /// extraction falls below 0.85 as soon as the test runs.
    /// </summary>
    public double Delta { get; set; } = 0.85;

    /// <summary>Distances needed before the test runs. Default 200 (W over fewer is too noisy for honest clients).</summary>
    public int MinDistances { get; set; } = 200;

    /// <summary>The newest distances kept and tested (the paper keeps all; a window bounds memory and lets a client recover). Default 500.</summary>
    public int Window { get; set; } = 500;

    /// <summary>Growing-set members kept per class, oldest replaced first: bounds memory and the nearest-neighbour search. Default 32.</summary>
    public int MaxPerClass { get; set; } = 32;
}
