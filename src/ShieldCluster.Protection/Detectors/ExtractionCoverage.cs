namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// How much of the model's class space a client's answers cover, and how evenly: the information
/// side of the natural-data extraction detector. Kesarwani et al. ("Model Extraction Warning in
/// MLaaS Paradigm", ACSAC 2018) warn on the share of the model's input/class space a user's queries
/// have covered; a Knockoff Nets or Copycat transfer set is drawn to cover every class, while honest
/// use tends to concentrate on the few classes a user cares about.
/// </summary>
/// <remarks>
/// Coverage is the Hill number of order 1 (the exponential of the Shannon entropy of the answer-label
/// histogram: "effective classes") over the model's class count, so ten classes answered evenly cover
/// 1.0, two classes evenly 0.2, and 95% of one class with the rest spread thinly about 0.13. The
/// entropy carries the Miller-Madow correction ((seen classes - 1) / 2n), so a small honest sample of a
/// uniform stream does not look concentrated merely because it is small.
/// </remarks>
public static class ExtractionCoverage
{
    /// <summary>Labels at or above this are not tracked (a model with more classes is measured over its first ones).</summary>
    public const int MaxClasses = 4_096;

    /// <summary>Measures the histogram <paramref name="counts"/> (answers per class) of a model with <paramref name="classes"/> classes (0: unknown, the histogram's length then).</summary>
    public static ClassCoverage Measure(ReadOnlySpan<long> counts, int classes)
    {
        long n = 0;
        var seen = 0;
        foreach (var count in counts)
        {
            if (count > 0)
            {
                n += count;
                seen++;
            }
        }

        var k = Math.Max(Math.Max(classes, seen), 1);
        if (n == 0)
        {
            return new ClassCoverage(k, 0, 0, 0, Math.Log2(k), 0);
        }

        var entropy = 0.0;
        foreach (var count in counts)
        {
            if (count > 0)
            {
                var p = count / (double)n;
                entropy -= p * Math.Log(p);
            }
        }

        var max = Math.Log(k);
        entropy = Math.Clamp(entropy + ((seen - 1) / (2.0 * n)), 0, max);
        return new ClassCoverage(k, seen, n, entropy / Math.Log(2), max / Math.Log(2), Math.Exp(entropy) / k);
    }

    /// <summary>
    /// The weight of one novel input in the extraction volume: <paramref name="concentratedWeight"/>
    /// when every answer is one class, 1 when the answers cover every class evenly, linear in
    /// coverage between.
    /// </summary>
    public static double Weight(ClassCoverage coverage, double concentratedWeight)
    {
        if (coverage.Classes <= 1 || coverage.Answers == 0)
        {
            return 1;
        }

        var floor = 1.0 / coverage.Classes;
        var spread = Math.Clamp((coverage.Coverage - floor) / (1 - floor), 0, 1);
        return concentratedWeight + ((1 - concentratedWeight) * spread);
    }

    /// <summary>Counts one answer of class <paramref name="label"/> in <paramref name="counts"/>, growing it as needed; labels outside [0, <see cref="MaxClasses"/>) are ignored.</summary>
    public static void Count(List<long> counts, int label)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (label is < 0 or >= MaxClasses)
        {
            return;
        }

        while (counts.Count <= label)
        {
            counts.Add(0);
        }

        counts[label]++;
    }
}

/// <summary>The class coverage of a client's answers.</summary>
/// <param name="Classes">The model's classes (at least those seen).</param>
/// <param name="Seen">Classes answered at least once.</param>
/// <param name="Answers">Answers counted.</param>
/// <param name="EntropyBits">Entropy of the answer-label histogram in bits (Miller-Madow corrected, at most <paramref name="MaxEntropyBits"/>).</param>
/// <param name="MaxEntropyBits">log2 of <paramref name="Classes"/>: every class answered equally often.</param>
/// <param name="Coverage">Effective classes (2^entropy) over <paramref name="Classes"/>, in [1/Classes, 1]; 0 with no answers.</param>
public readonly record struct ClassCoverage(int Classes, int Seen, long Answers, double EntropyBits, double MaxEntropyBits, double Coverage)
{
    /// <summary>2^entropy: how many equally used classes the histogram is worth.</summary>
    public double EffectiveClasses => Coverage * Classes;
}
