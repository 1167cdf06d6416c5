using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Risk;

namespace ShieldCluster.Protection.Tests.Risk;

public class RiskScorerTests
{
    private static readonly DetectionOptions Detection = new();

    private static DetectorSignals Signals(bool prada = false, int matches = 0) => new(
        Queries: 500, Retries: 0, PradaW: prada ? 0.7 : 0.98, PradaDistances: 400, PradaAlarm: prada,
        BlacklightMatches: matches, BlacklightBestOverlap: matches > 0 ? 40 : 0, BlacklightAlarm: matches >= Detection.BlacklightAlarmMatches, DistinctLabels: 10);

    [Fact]
    public void Score_NoEvidence_IsZero()
    {
        var (risk, verdicts) = RiskScorer.Score(Signals(), 0, Detection, new RiskPolicy());
        Assert.Equal(0, risk);
        Assert.Equal(RiskScorer.Detectors, verdicts.Select(v => v.Detector));
        Assert.Contains("W 0.9800", verdicts[0].Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_AnyAlarm_IsOne_AndBlocks()
    {
        var policy = new RiskPolicy { MonitorOnly = "" };
        Assert.Equal(1, RiskScorer.Score(Signals(prada: true), 0, Detection, policy).Risk);
        Assert.Equal(1, RiskScorer.Score(Signals(matches: 3), 0, Detection, policy).Risk);
        Assert.Equal(EnforcementLevel.Blocked, policy.LevelFor(1));
    }

    [Fact]
    public void Score_MatchesBelowTheAlarm_StayBelowDegrade()
    {
        var policy = new RiskPolicy();
        var (risk, _) = RiskScorer.Score(Signals(matches: Detection.BlacklightAlarmMatches - 1), 0, Detection, policy);
        Assert.True(risk > 0);
        Assert.Equal(EnforcementLevel.Ok, policy.LevelFor(risk));
    }

    [Theory]
    [InlineData(0, EnforcementLevel.Ok)]
    [InlineData(1, EnforcementLevel.Degraded)]
    [InlineData(2, EnforcementLevel.Blocked)]
    public void Score_LineSearchHits_DegradeThenBlock(int hits, EnforcementLevel expected)
    {
        var policy = new RiskPolicy();
        var signals = Signals() with
        {
            LineSearchHits = hits,
            LineSearchAlarm = hits >= Detection.LineSearchAlarmHits,
            LineSearchTotal = hits,
            LineSearchLatest = hits > 0 ? new LineSearchHit(9, 3, 0.5, 0.31, 96.4) : null,
        };
        var (risk, verdicts) = RiskScorer.Score(signals, 0, Detection, policy);
        Assert.Equal(expected, policy.LevelFor(risk));
        var verdict = verdicts.Single(v => v.Detector == RiskScorer.LineSearch);
        Assert.False(verdict.MonitorOnly);
        Assert.StartsWith($"{hits} of the last 10 queries lay on the line between two earlier, different queries of this client", verdict.Evidence, StringComparison.Ordinal);
        if (hits > 0)
        {
            Assert.EndsWith("latest at t 0.50 between the queries 9 and 3 back, 0.31 levels RMS off the line, the two 96 levels RMS apart", verdict.Evidence, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Policy_MonitorOnly_KnowsTheLineSearchDetector()
    {
        var policy = new RiskPolicy { MonitorOnly = "prada,linesearch" };
        Assert.Empty(policy.Validate("Shield:Risk"));
        var signals = Signals() with { LineSearchHits = 3, LineSearchAlarm = true };
        Assert.Equal(0, RiskScorer.Score(signals, 0, Detection, policy).Risk);
    }

    [Fact]
    public void DefaultPolicy_PradaOnlyMonitors()
    {
        var (risk, verdicts) = RiskScorer.Score(Signals(prada: true), 0, Detection, new RiskPolicy());
        Assert.Equal(0, risk);
        Assert.True(verdicts.Single(v => v.Detector == RiskScorer.Prada).MonitorOnly);
    }

    [Fact]
    public void Score_MonitorOnlyDetector_IsReportedButNotCounted()
    {
        var policy = new RiskPolicy { MonitorOnly = "PRADA" };
        var (risk, verdicts) = RiskScorer.Score(Signals(prada: true), 0, Detection, policy);
        Assert.Equal(0, risk);
        var prada = verdicts.Single(v => v.Detector == RiskScorer.Prada);
        Assert.True(prada.MonitorOnly);
        Assert.Equal(1, prada.Score);
    }

    [Theory]
    [InlineData(0, EnforcementLevel.Ok)]
    [InlineData(1_999, EnforcementLevel.Ok)]
    [InlineData(2_000, EnforcementLevel.Degraded)]
    [InlineData(3_000, EnforcementLevel.Throttled)]
    [InlineData(4_000, EnforcementLevel.Blocked)]
    public void Score_NovelInputsAgainstTheBudget_ClimbTheLadder(long novel, EnforcementLevel expected)
    {
        var policy = new RiskPolicy();
        var (risk, verdicts) = RiskScorer.Score(Signals(), novel, Detection, policy);
        Assert.Equal(expected, policy.LevelFor(risk));
        Assert.StartsWith($"{novel} novel inputs today against a budget of 2000", verdicts.Single(v => v.Detector == RiskScorer.Extraction).Evidence, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, EnforcementLevel.Ok)]
    [InlineData(0.39, EnforcementLevel.Ok)]
    [InlineData(0.4, EnforcementLevel.Degraded)]
    [InlineData(0.7, EnforcementLevel.Throttled)]
    [InlineData(0.9, EnforcementLevel.Blocked)]
    public void LevelFor_FollowsTheLadder(double risk, EnforcementLevel expected)
    {
        Assert.Equal(expected, new RiskPolicy().LevelFor(risk));
    }

    [Fact]
    public void Validate_BadPolicy_NamesEachProblem()
    {
        var policy = new RiskPolicy { DegradeAt = 0.8, ThrottleAt = 0.5, ThrottleFactor = 0, BlockFor = TimeSpan.Zero, MonitorOnly = "squeeze-me" };
        var failures = policy.Validate("Shield:Risk").ToList();
        Assert.Equal(4, failures.Count);
        Assert.All(failures, f => Assert.StartsWith("Shield:Risk", f, StringComparison.Ordinal));
        Assert.Empty(new RiskPolicy().Validate("Shield:Risk"));
    }

    [Fact]
    public void Risk_EqualsScoresRisk_ForAnySignalsAndMonitorOnlyList()
    {
        var random = new Random(3);
        string[] monitorLists = ["", "prada", "prada,squeezing", "blacklight, linesearch", "extraction,prada,blacklight,linesearch,squeezing"];
        var policies = monitorLists.Select(m => new RiskPolicy { MonitorOnly = m }).ToList();
        for (var i = 0; i < 2_000; i++)
        {
            var signals = new DetectorSignals(
                Queries: 1_000, Retries: 0, PradaW: 0.9, PradaDistances: 300, PradaAlarm: random.Next(4) == 0,
                BlacklightMatches: random.Next(4), BlacklightBestOverlap: 30, BlacklightAlarm: random.Next(5) == 0, DistinctLabels: 10,
                SqueezeFlags: random.Next(20), SqueezeChecked: 50, SqueezeAlarm: random.Next(6) == 0, CrossClientMatches: random.Next(12))
            {
                LineSearchHits = random.Next(3),
                LineSearchAlarm = random.Next(7) == 0,
            };
            var policy = policies[random.Next(policies.Count)];
            var novel = random.Next(5_000);
            Assert.Equal(RiskScorer.Score(signals, novel, Detection, policy).Risk, RiskScorer.Risk(signals, novel, Detection, policy));
        }

        // The parsed monitor-only list follows a change of the setting.
        var changing = new RiskPolicy { MonitorOnly = "" };
        Assert.False(changing.IsMonitorOnly("prada"));
        changing.MonitorOnly = "Prada";
        Assert.True(changing.IsMonitorOnly("prada"));
    }

    private static readonly ClassCoverage Even = ExtractionCoverage.Measure([200, 200, 200, 200, 200, 200, 200, 200, 200, 200], 10);

    private static PeerComparison Peers(int peers, double p90, double median = 0) => new(1, peers, median == 0 ? p90 / 2 : median, p90, 0.9);

    [Theory]
    [InlineData(749, EnforcementLevel.Ok)]
    [InlineData(750, EnforcementLevel.Degraded)]
    [InlineData(1_499, EnforcementLevel.Degraded)]
    [InlineData(1_500, EnforcementLevel.Throttled)]
    [InlineData(1_999, EnforcementLevel.Throttled)]
    [InlineData(4_000, EnforcementLevel.Blocked)]
    public void Score_FarAboveItsPeers_DegradesThenThrottlesBeforeTheBudget_NeverBlocksOnPeersAlone(long novel, EnforcementLevel expected)
    {
        var policy = new RiskPolicy();
        // Peers' p90 250 (above the floor of 200): degraded at 3x = 750, throttled at 6x = 1,500, blocked only by the budget (2x 2,000).
        var (risk, verdicts) = RiskScorer.Score(Signals(), new ExtractionSignals(novel, Even, Peers(20, 250)), Detection, policy);
        Assert.Equal(expected, policy.LevelFor(risk));
        var evidence = verdicts.Single(v => v.Detector == RiskScorer.Extraction).Evidence;
        Assert.Contains("peers: 20 other clients of the plan today, novel inputs median 125, p90 250", evidence, StringComparison.Ordinal);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"this client {novel / 250.0:F2}x max(p90, floor 200)"), evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_HonestHeavyClientWithinTheUsualSpread_StaysOk()
    {
        var policy = new RiskPolicy();
        // Twice the p90 of its peers, far below the budget.
        var risk = RiskScorer.Risk(Signals(), new ExtractionSignals(1_000, Even, Peers(50, 500)), Detection, policy);
        Assert.Equal(EnforcementLevel.Ok, policy.LevelFor(risk));
        Assert.True(risk < policy.DegradeAt * 0.9, $"risk {risk}");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    public void Score_FewerPeersThanTheMinimum_OnlyTheBudgetCounts(int peers)
    {
        var policy = new RiskPolicy();
        var alone = RiskScorer.Risk(Signals(), new ExtractionSignals(1_500, Even), Detection, policy);
        var (risk, verdicts) = RiskScorer.Score(Signals(), new ExtractionSignals(1_500, Even, Peers(peers, 50)), Detection, policy);
        Assert.Equal(alone, risk);
        Assert.Equal(EnforcementLevel.Ok, policy.LevelFor(risk));
        Assert.Contains($"peers: {peers} other clients of the plan today", verdicts.Single(v => v.Detector == RiskScorer.Extraction).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_ComparePeersOff_IgnoresThem()
    {
        var policy = new RiskPolicy { ComparePeers = false };
        var (risk, verdicts) = RiskScorer.Score(Signals(), new ExtractionSignals(1_500, Even, Peers(50, 50)), Detection, policy);
        Assert.Equal(EnforcementLevel.Ok, policy.LevelFor(risk));
        Assert.Contains("not compared", verdicts.Single(v => v.Detector == RiskScorer.Extraction).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_TheFloorProtectsEarlyInTheDay()
    {
        var policy = new RiskPolicy();
        // Peers have sent 10 each so far; a client at 150 is 15x their p90 but under the floor of 200.
        var risk = RiskScorer.Risk(Signals(), new ExtractionSignals(150, Even, Peers(30, 10)), Detection, policy);
        Assert.Equal(EnforcementLevel.Ok, policy.LevelFor(risk));
    }

    [Fact]
    public void Score_MonitorOnlyExtraction_ReportsThePeersButDoesNotEnforce()
    {
        var policy = new RiskPolicy { MonitorOnly = "extraction" };
        var (risk, verdicts) = RiskScorer.Score(Signals(), new ExtractionSignals(5_000, Even, Peers(20, 100)), Detection, policy);
        Assert.Equal(0, risk);
        var extraction = verdicts.Single(v => v.Detector == RiskScorer.Extraction);
        Assert.True(extraction.MonitorOnly);
        Assert.Equal(1.0, extraction.Score);
        Assert.Contains("p90 100", extraction.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_EvenCoverageCountsMoreThanTheSameVolumeOnFewClasses()
    {
        var policy = new RiskPolicy();
        var concentrated = ExtractionCoverage.Measure([1_000, 1_000, 0, 0, 0, 0, 0, 0, 0, 0], 10);
        var even = RiskScorer.AssessExtraction(new ExtractionSignals(2_000, Even), policy);
        var few = RiskScorer.AssessExtraction(new ExtractionSignals(2_000, concentrated), policy);
        Assert.Equal(EnforcementLevel.Degraded, policy.LevelFor(even.Score));
        Assert.Equal(EnforcementLevel.Ok, policy.LevelFor(few.Score));
        Assert.True(even.WeightedNovel > 1.8 * few.WeightedNovel - 1, $"{even.WeightedNovel} vs {few.WeightedNovel}");
        var (_, verdicts) = RiskScorer.Score(Signals(), new ExtractionSignals(2_000, concentrated), Detection, policy);
        var evidence = verdicts.Single(v => v.Detector == RiskScorer.Extraction).Evidence;
        Assert.Contains("cover 2 of 10 classes, entropy 1.00 of 3.32 bits (coverage 0.20: 2.0 effective classes)", evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadExtractionKnobs_AreNamed()
    {
        var policy = new RiskPolicy { ConcentratedWeight = 0, PeerMinPeers = 0, PeerFloor = 0, PeerDegradeRatio = 4, PeerThrottleRatio = 2 };
        var failures = policy.Validate("Shield:Plans:p:Risk").ToList();
        Assert.Equal(4, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Shield:Plans:p:Risk:ConcentratedWeight must be in (0, 1] (got 0)", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Shield:Plans:p:Risk:PeerMinPeers", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Shield:Plans:p:Risk:PeerFloor", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Shield:Plans:p:Risk:PeerThrottleRatio", StringComparison.Ordinal));
        Assert.Single(new RiskPolicy { PeerDegradeRatio = 1 }.Validate("x"));
    }

    [Fact]
    public void Risk_EqualsScoresRisk_WithCoverageAndPeers()
    {
        var random = new Random(9);
        for (var i = 0; i < 1_000; i++)
        {
            var counts = Enumerable.Range(0, 10).Select(_ => (long)random.Next(0, 50)).ToArray();
            var policy = new RiskPolicy { MonitorOnly = random.Next(2) == 0 ? "" : "extraction", ComparePeers = random.Next(4) != 0 };
            var signals = new ExtractionSignals(random.Next(5_000), ExtractionCoverage.Measure(counts, 10), random.Next(3) == 0 ? null : Peers(random.Next(10), random.Next(1, 2_000)));
            Assert.Equal(RiskScorer.Score(Signals(), signals, Detection, policy).Risk, RiskScorer.Risk(Signals(), signals, Detection, policy));
        }
    }
}
