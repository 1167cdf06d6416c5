using System.Globalization;
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

    /// <summary>Feature squeezing's name in policy and reports.</summary>
    public const string Squeezing = "squeezing";

    /// <summary>Every detector name the scorer knows.</summary>
    public static readonly IReadOnlyList<string> Detectors = [Prada, Blacklight, Squeezing];

    /// <summary>Scores <paramref name="signals"/> under <paramref name="policy"/>.</summary>
    public static (double Risk, IReadOnlyList<DetectorVerdict> Verdicts) Score(DetectorSignals signals, DetectionOptions detection, RiskPolicy policy)
    {
        var prada = signals.PradaAlarm ? 1.0 : 0.0;
        var pradaEvidence = signals.PradaW is { } w
            ? string.Create(CultureInfo.InvariantCulture, $"Shapiro-Wilk W {w:F4} over {signals.PradaDistances} distances (alarm below {detection.Prada.Delta:F2})")
            : string.Create(CultureInfo.InvariantCulture, $"{signals.PradaDistances} distances, test starts at {detection.Prada.MinDistances}");

        // Below the alarm, matches stay under the degrade threshold: honest near-duplicates match now and then.
        var blacklight = signals.BlacklightAlarm ? 1.0 : 0.35 * signals.BlacklightMatches / detection.BlacklightAlarmMatches;
        var blacklightEvidence = string.Create(CultureInfo.InvariantCulture,
            $"{signals.BlacklightMatches} of the last {detection.BlacklightWindow} queries matched an earlier one, {signals.CrossClientMatches} of them another client's (alarm at {detection.BlacklightAlarmMatches}); latest overlap {signals.BlacklightBestOverlap} hashes");

        // Honest inputs are flagged at the calibrated false-positive rate, so partial counts stay low.
        var squeezing = signals.SqueezeAlarm ? 1.0 : 0.35 * signals.SqueezeFlags / detection.SqueezeAlarmFlags;
        var squeezingEvidence = string.Create(CultureInfo.InvariantCulture,
            $"{signals.SqueezeFlags} of the last {signals.SqueezeChecked} squeezed inputs flagged as adversarial (alarm at {detection.SqueezeAlarmFlags})");

        DetectorVerdict[] verdicts =
        [
            new(Prada, prada, policy.IsMonitorOnly(Prada), pradaEvidence),
            new(Blacklight, blacklight, policy.IsMonitorOnly(Blacklight), blacklightEvidence),
            new(Squeezing, squeezing, policy.IsMonitorOnly(Squeezing), squeezingEvidence),
        ];
        var risk = verdicts.Where(v => !v.MonitorOnly).Select(v => v.Score).DefaultIfEmpty(0).Max();
        return (risk, verdicts);
    }
}
