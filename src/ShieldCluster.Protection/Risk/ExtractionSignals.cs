using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Protection.Risk;

/// <summary>
/// What the natural-data extraction detector judges a client on: its novel (non-retry) inputs today,
/// how much of the model's class space their answers covered, and its plan's peers.
/// </summary>
/// <param name="NovelToday">Novel inputs served today (UTC).</param>
/// <param name="Coverage">The class coverage of today's novel answers; null when unknown (counted at weight 1).</param>
/// <param name="Peers">The plan's peers today; null when none reported yet, or for another day.</param>
public readonly record struct ExtractionSignals(long NovelToday, ClassCoverage? Coverage = null, PeerComparison? Peers = null)
{
    /// <summary>Volume alone: no coverage, no peers.</summary>
    public static implicit operator ExtractionSignals(long novelToday) => new(novelToday);

    /// <summary>Volume alone.</summary>
    public static ExtractionSignals FromInt64(long novelToday) => new(novelToday);
}

/// <summary>The extraction detector's assessment of <see cref="ExtractionSignals"/> under a policy.</summary>
/// <param name="Score">The detector's score in [0, 1].</param>
/// <param name="Weight">The weight of a novel input from the class coverage (1: even over every class, or unknown).</param>
/// <param name="WeightedNovel">Novel inputs today times <paramref name="Weight"/>: the information-weighted volume.</param>
/// <param name="BudgetScore">The score from the plan's budget alone.</param>
/// <param name="PeerRatio">Weighted novel inputs over max(peers' 90th percentile, floor); null when the peers do not count.</param>
/// <param name="PeerScore">The score from the peer comparison alone (0 when it does not count).</param>
public readonly record struct ExtractionAssessment(double Score, double Weight, double WeightedNovel, double BudgetScore, double? PeerRatio, double PeerScore);
