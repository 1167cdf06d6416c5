namespace ShieldCluster.Protection.Detectors;

/// <summary>Blacklight's parameters (the paper's CIFAR-10 values as defaults).</summary>
public sealed class BlacklightOptions
{
    /// <summary>Values per hashed window. Default 20.</summary>
    public int Window { get; set; } = 20;

    /// <summary>Hashes kept per fingerprint (the largest). Default 50.</summary>
    public int Keep { get; set; } = 50;

    /// <summary>Quantisation step on the 0-255 scale. Default 50.</summary>
    public int Quantum { get; set; } = 50;

    /// <summary>A query matches an earlier one when they share more than this many hashes. Default 25.</summary>
    public int MatchThreshold { get; set; } = 25;

    /// <summary>
    /// Skip windows whose values are all equal (flat background), which every image with the same
    /// background shares at the same positions. Default true.
    /// </summary>
    public bool SkipFlatWindows { get; set; } = true;

    /// <summary>Fingerprints an index keeps before evicting the oldest. Default 1,000.</summary>
    public int IndexCapacity { get; set; } = 1_000;
}
