using BenchmarkDotNet.Attributes;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Features;
using ShieldCluster.Protection.Risk;
using ShieldCluster.Testing;

namespace ShieldCluster.Benchmarks;

/// <summary>
/// The stateful detectors' cost per query, with the client's history at its cap: PRADA's nearest
/// neighbour over the class set and its Shapiro-Wilk test over the distance window, Blacklight's
/// index lookup and insert, the line-search detector's dot products and pair tests, the retry filter
/// and the squeezing window. The target: at most 50 microseconds per query (784 features).
/// </summary>
[MemoryDiagnoser]
public class DetectorBenchmarks
{
    private readonly QueryFeatureExtractor _extractor = new([1, 28, 28], 0f, 1f);
    private readonly BlacklightFingerprinter _fingerprinter = new(new BlacklightOptions(), new byte[32], 784);
    private ClientDetectors _detectors = null!;
    private LineSearchDetector _lineSearch = null!;
    private QueryObservation[] _queries = null!;
    private float[][] _images = null!;
    private int _next;
    private ulong _counter;
    private long[] _labelCounts = null!;
    private PeerVolumes _peers = null!;
    private string[] _peerIds = null!;
    private readonly RiskPolicy _policy = new();

    [GlobalSetup]
    public void Setup()
    {
        var (images, labels) = FashionMnist.TestSet;
        var options = new DetectionOptions();
        _images = [.. Enumerable.Range(0, 2_000).Select(i => images.AsSpan(i * 784, 784).ToArray())];
        _queries = [.. Enumerable.Range(0, 2_000).Select(i => Observation(_images[i], labels[i]))];
        _detectors = new ClientDetectors(options);
        // Fill every bounded structure: history, class sets, distance window, Blacklight index.
        for (var i = 0; i < options.Blacklight.IndexCapacity; i++)
        {
            _detectors.Observe(_queries[i]);
        }

        _next = options.Blacklight.IndexCapacity;
        _labelCounts = [.. Enumerable.Range(0, 10).Select(c => (long)labels.Take(2_000).Count(l => l == c))];
        // A plan's peer index at its default cap (100,000 clients today).
        _peers = new PeerVolumes(options.PeerCapacity);
        _peerIds = [.. Enumerable.Range(0, options.PeerCapacity).Select(i => $"client-{i}")];
        var random = new Random(1);
        foreach (var id in _peerIds)
        {
            _peers.Report(id, 740_000, random.Next(1, 5_000), random.NextDouble());
        }

        _lineSearch = new LineSearchDetector(options.LineSearch);
        for (var i = 0; i < options.LineSearch.Memory; i++)
        {
            _lineSearch.Observe(_queries[i].Features);
        }
    }

    private QueryObservation Observation(float[] image, int label)
    {
        var features = _extractor.Extract(image);
        return new QueryObservation(features.Digest, label, features.Thumbnail, _fingerprinter.Fingerprint(image, 0f, 1f), false);
    }

    /// <summary>All stateful detectors observing one new query (in the client's grain).</summary>
    [Benchmark]
    public DetectorSignals ObserveQuery()
    {
        var query = _queries[_next];
        _next = _next + 1 == _queries.Length ? 1_000 : _next + 1;
        // A query the detectors have seen is a retry and skips them: a never-repeating digest measures the full path.
        return _detectors.Observe(query with { Digest = ++_counter });
    }

    /// <summary>The line-search detector alone, its memory full: dot products with the kept inputs, every pair tested.</summary>
    [Benchmark]
    public LineSearchHit? LineSearch()
    {
        var query = _queries[_next];
        _next = _next + 1 == _queries.Length ? 1_000 : _next + 1;
        return _lineSearch.Observe(query.Features);
    }

    /// <summary>Features of one item on the serving silo: digest and quantised bytes.</summary>
    [Benchmark]
    public QueryFeatures ExtractFeatures() => _extractor.Extract(_images[_next % _images.Length]);

    /// <summary>The salted Blacklight fingerprint of one item on the serving silo.</summary>
    [Benchmark]
    public ulong[] Fingerprint() => _fingerprinter.Fingerprint(_images[_next % _images.Length], 0f, 1f);

    /// <summary>
    /// The extraction detector's assessment in the client's grain: the class coverage of today's
    /// answers (entropy of a 10-class histogram) and the score against the budget and the peers.
    /// </summary>
    [Benchmark]
    public ExtractionAssessment ExtractionCoverageAndScore()
    {
        _labelCounts[_next % 10]++;
        var coverage = ExtractionCoverage.Measure(_labelCounts, 10);
        return RiskScorer.AssessExtraction(new ExtractionSignals(1_500, coverage, new PeerComparison(740_000, 50, 400, 900, 0.9)), _policy);
    }

    /// <summary>One client's report to its plan's peer grain, 100,000 clients kept: update and both quantiles.</summary>
    [Benchmark]
    public PeerComparison PeerReport()
    {
        _counter++;
        return _peers.Report(_peerIds[(int)(_counter % (ulong)_peerIds.Length)], 740_000, (long)(_counter % 5_000), 0.9);
    }
}
