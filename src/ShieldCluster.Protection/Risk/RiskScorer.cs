using System.Globalization;
using System.Text;
using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Protection.Risk;

/// <summary>
/// Turns detector signals into per-detector scores and one risk score in [0, 1]: the largest score
/// of the detectors that enforce (monitor-only ones are reported, not counted). A detector at its
/// alarm scores 1; below it, partial evidence scores in proportion.
/// </summary>
public static class RiskScorer
{
    /// <summary>PRADA's name in policy and reports.</summary>
    public const string Prada = "prada";

    /// <summary>Blacklight's name in policy and reports.</summary>
    public const string Blacklight = "blacklight";

    /// <summary>The line-search (boundary-walk) detector's name in policy and reports.</summary>
    public const string LineSearch = "linesearch";

    /// <summary>Feature squeezing's name in policy and reports.</summary>
    public const string Squeezing = "squeezing";

    /// <summary>The natural-data extraction (volume) detector's name in policy and reports.</summary>
    public const string Extraction = "extraction";

    /// <summary>Every detector name the scorer knows.</summary>
    public static readonly IReadOnlyList<string> Detectors = [Prada, Blacklight, LineSearch, Squeezing, Extraction];

    /// <summary>
    /// The risk alone: what <see cref="Score(DetectorSignals, long, DetectionOptions, RiskPolicy)"/> returns as its risk, without writing the evidence
    /// (the client's grain asks for it on every query, and for the evidence only when it acts or reports).
    /// </summary>
    public static double Risk(DetectorSignals signals, long novelToday, DetectionOptions detection, RiskPolicy policy) =>
        Risk(signals, new ExtractionSignals(novelToday), detection, policy);

    /// <summary>
    /// The risk alone, with the extraction detector's coverage and peer evidence: what
    /// <see cref="Score(DetectorSignals, ExtractionSignals, DetectionOptions, RiskPolicy)"/> returns as its risk.
    /// </summary>
    public static double Risk(DetectorSignals signals, ExtractionSignals extractionSignals, DetectionOptions detection, RiskPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(detection);
        ArgumentNullException.ThrowIfNull(policy);
        var (prada, blacklight, lineSearch, squeezing, extraction) = Scores(signals, extractionSignals, detection, policy);
        var risk = 0.0;
        Span<(string Name, double Score)> scores = [(Prada, prada), (Blacklight, blacklight), (LineSearch, lineSearch), (Squeezing, squeezing), (Extraction, extraction)];
        foreach (var (name, score) in scores)
        {
            if (score > risk && !policy.IsMonitorOnly(name))
            {
                risk = score;
            }
        }

        return risk;
    }

    /// <summary>Each detector's score in [0, 1].</summary>
    private static (double Prada, double Blacklight, double LineSearch, double Squeezing, double Extraction) Scores(DetectorSignals signals, ExtractionSignals extractionSignals, DetectionOptions detection, RiskPolicy policy)
    {
        var prada = signals.PradaAlarm ? 1.0 : 0.0;

        // Below the alarm, matches stay under the degrade threshold: honest near-duplicates match now and then.
        var blacklight = signals.BlacklightAlarm ? 1.0 : 0.35 * Math.Max(
            signals.BlacklightMatches / (double)detection.BlacklightAlarmMatches,
            signals.CrossClientMatches / (double)detection.CrossClientAlarmMatches);

        // A single hit is strong evidence already (honest traffic never blended two of its images in
        // the evaluations): it degrades (label-only answers, the label unchanged); the alarm blocks.
        var lineSearch = signals.LineSearchAlarm ? 1.0 : signals.LineSearchHits > 0 ? policy.DegradeAt : 0.0;

        // Honest inputs are flagged at the calibrated false-positive rate, so partial counts stay low.
        var squeezing = signals.SqueezeAlarm ? 1.0 : 0.35 * signals.SqueezeFlags / detection.SqueezeAlarmFlags;
        var extraction = AssessExtraction(extractionSignals, policy).Score;
        return (prada, blacklight, lineSearch, squeezing, extraction);
    }

    /// <summary>Scores <paramref name="signals"/> and today's novel inputs under <paramref name="policy"/>.</summary>
    public static (double Risk, IReadOnlyList<DetectorVerdict> Verdicts) Score(DetectorSignals signals, long novelToday, DetectionOptions detection, RiskPolicy policy) =>
        Score(signals, new ExtractionSignals(novelToday), detection, policy);

    /// <summary>Scores <paramref name="signals"/> and the extraction detector's <paramref name="extractionSignals"/> under <paramref name="policy"/>.</summary>
    public static (double Risk, IReadOnlyList<DetectorVerdict> Verdicts) Score(DetectorSignals signals, ExtractionSignals extractionSignals, DetectionOptions detection, RiskPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(detection);
        ArgumentNullException.ThrowIfNull(policy);
        var (prada, blacklight, lineSearch, squeezing, extraction) = Scores(signals, extractionSignals, detection, policy);
        var pradaEvidence = signals.PradaW is { } w
            ? string.Create(CultureInfo.InvariantCulture, $"Shapiro-Wilk W {w:F4} over {signals.PradaDistances} distances (alarm below {detection.Prada.Delta:F2})")
            : string.Create(CultureInfo.InvariantCulture, $"{signals.PradaDistances} distances, test starts at {detection.Prada.MinDistances}");

        var blacklightEvidence = string.Create(CultureInfo.InvariantCulture,
            $"{signals.BlacklightMatches} of the last {detection.BlacklightWindow} queries matched an earlier one of this client (alarm at {detection.BlacklightAlarmMatches}); {signals.CrossClientMatches} of the last {detection.CrossClientWindow} matched other clients' (alarm at {detection.CrossClientAlarmMatches}); latest overlap {signals.BlacklightBestOverlap} hashes");

        var lineSearchEvidence = string.Create(CultureInfo.InvariantCulture,
            $"{signals.LineSearchHits} of the last {detection.LineSearchWindow} queries lay on the line between two earlier, different queries of this client, as a boundary walk's binary search does (alarm at {detection.LineSearchAlarmHits}; {signals.LineSearchTotal} in all)")
            + (signals.LineSearchLatest is { } hit
                ? string.Create(CultureInfo.InvariantCulture,
                    $"; latest at t {hit.T:F2} between the queries {hit.OlderBack} and {hit.NewerBack} back, {hit.ResidualRms:F2} levels RMS off the line, the two {hit.SpanRms:F0} levels RMS apart")
                : "");

        var squeezingEvidence = string.Create(CultureInfo.InvariantCulture,
            $"{signals.SqueezeFlags} of the last {signals.SqueezeChecked} squeezed inputs flagged as adversarial (alarm at {detection.SqueezeAlarmFlags})");

        var extractionEvidence = ExtractionEvidence(signals, extractionSignals, policy);

        DetectorVerdict[] verdicts =
        [
            new(Prada, prada, policy.IsMonitorOnly(Prada), pradaEvidence),
            new(Blacklight, blacklight, policy.IsMonitorOnly(Blacklight), blacklightEvidence),
            new(LineSearch, lineSearch, policy.IsMonitorOnly(LineSearch), lineSearchEvidence),
            new(Squeezing, squeezing, policy.IsMonitorOnly(Squeezing), squeezingEvidence),
            new(Extraction, extraction, policy.IsMonitorOnly(Extraction), extractionEvidence),
        ];
        return (Risk(signals, extractionSignals, detection, policy), verdicts);
    }

    /// <summary>
    /// The natural-data extraction detector: novel inputs today, weighted by how evenly their answers
    /// cover the model's classes (<see cref="ExtractionCoverage.Weight"/>), against the plan's budget
    /// and, once <see cref="RiskPolicy.PeerMinPeers"/> other clients of the plan reported today,
    /// against their 90th percentile (at least <see cref="RiskPolicy.PeerFloor"/>). The score is the
    /// higher of the two: the budget degrades at 1x, throttles at 1.5x, blocks at 2x; the peers
    /// degrade at <see cref="RiskPolicy.PeerDegradeRatio"/>, throttle at
    /// <see cref="RiskPolicy.PeerThrottleRatio"/> and never block on their own.
    /// </summary>
    public static ExtractionAssessment AssessExtraction(ExtractionSignals signals, RiskPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var weight = signals.Coverage is { } coverage ? ExtractionCoverage.Weight(coverage, policy.ConcentratedWeight) : 1.0;
        var weighted = signals.NovelToday * weight;
        var budgetScore = BudgetScore(weighted / policy.ExtractionBudget, policy);
        double? ratio = null;
        var peerScore = 0.0;
        if (policy.ComparePeers && signals.Peers is { } peers && peers.Peers >= policy.PeerMinPeers)
        {
            var r = weighted / Math.Max(peers.P90Novel, policy.PeerFloor);
            ratio = r;
            peerScore = r < policy.PeerDegradeRatio ? policy.DegradeAt * 0.9 * r / policy.PeerDegradeRatio
                : r < policy.PeerThrottleRatio ? policy.DegradeAt
                : policy.ThrottleAt;
        }

        return new ExtractionAssessment(Math.Max(budgetScore, peerScore), weight, weighted, budgetScore, ratio, peerScore);
    }

    /// <summary>
    /// Volume against the budget, mapped onto the ladder: below the budget it stays under the
    /// degrade threshold; at the budget it degrades, at 1.5 times it throttles, at twice it blocks.
    /// </summary>
    private static double BudgetScore(double volume, RiskPolicy policy) => volume switch
    {
        < 1.0 => policy.DegradeAt * 0.9 * volume,
        < 1.5 => policy.DegradeAt,
        < 2.0 => policy.ThrottleAt,
        _ => 1.0,
    };

    private static string ExtractionEvidence(DetectorSignals signals, ExtractionSignals extraction, RiskPolicy policy)
    {
        var assessment = AssessExtraction(extraction, policy);
        var volume = extraction.NovelToday / (double)policy.ExtractionBudget;
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"{extraction.NovelToday} novel inputs today against a budget of {policy.ExtractionBudget} ({volume:P0}); {signals.DistinctLabels} classes seen"));
        if (extraction.Coverage is { Answers: > 0 } coverage)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"; today's answers cover {coverage.Seen} of {coverage.Classes} classes, entropy {coverage.EntropyBits:F2} of {coverage.MaxEntropyBits:F2} bits (coverage {coverage.Coverage:F2}: {coverage.EffectiveClasses:F1} effective classes), so each novel input weighs {assessment.Weight:F2} (one class {policy.ConcentratedWeight:F2}, all evenly 1): weighted volume {assessment.WeightedNovel:F0} ({assessment.WeightedNovel / policy.ExtractionBudget:P0} of the budget)");
        }

        if (!policy.ComparePeers)
        {
            text.Append("; peers: not compared (ComparePeers off)");
        }
        else if (extraction.Peers is not { } peers)
        {
            text.Append("; peers: none reported yet today");
        }
        else if (assessment.PeerRatio is { } ratio)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"; peers: {peers.Peers} other clients of the plan today, novel inputs median {peers.MedianNovel:F0}, p90 {peers.P90Novel:F0} (class coverage median {peers.MedianCoverage:F2}); this client {ratio:F2}x max(p90, floor {policy.PeerFloor}) (degrade at {policy.PeerDegradeRatio:F1}x, throttle at {policy.PeerThrottleRatio:F1}x)");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture,
                $"; peers: {peers.Peers} other clients of the plan today (median {peers.MedianNovel:F0}, p90 {peers.P90Novel:F0}), fewer than the {policy.PeerMinPeers} compared: the budget alone counts");
        }

        return text.ToString();
    }
}
