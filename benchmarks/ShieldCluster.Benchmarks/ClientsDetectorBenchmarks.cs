using BenchmarkDotNet.Attributes;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Features;
using ShieldCluster.Testing;

namespace ShieldCluster.Benchmarks;

/// <summary>
/// The stateful detectors of many clients served in turn, as on the load test (32 clients): each
/// query finds its client's state (class sets, recent inputs, Blacklight index) cold in the cache,
/// where <see cref="DetectorBenchmarks.ObserveQuery"/> keeps one client's state hot.
/// </summary>
[MemoryDiagnoser]
public class ClientsDetectorBenchmarks
{
    private const int Clients = 32;
    private const int Shards = 4;

    private QueryObservation[] _queries = null!;
    private ClientDetectors[] _detectors = null!;
    private PradaDetector[] _prada = null!;
    private int[] _next = null!;
    private int _client;
    private int _pradaClient;
    private ulong _counter;
    private HashPostings<IndexBenchmarks.ClientOwner>[] _shards = null!;
    private IndexBenchmarks.ClientOwner[] _owners = null!;
    private ulong[][] _share = null!;
    private readonly List<(IndexBenchmarks.ClientOwner Owner, ulong Digest, int Shared)> _found = [];

    /// <summary>Blacklight's hashes per fingerprint (the threshold at more than half): the default 25, and the paper's 50.</summary>
    [Params(25, 50)]
    public int Keep { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var (images, labels) = FashionMnist.TestSet;
        var options = new DetectionOptions { Blacklight = new BlacklightOptions { Keep = Keep, MatchThreshold = Keep / 2 } };
        var extractor = new QueryFeatureExtractor([1, 28, 28], 0f, 1f);
        var fingerprinter = new BlacklightFingerprinter(options.Blacklight, new byte[32], 784);
        _queries = [.. Enumerable.Range(0, labels.Length).Select(i =>
        {
            var image = images.AsSpan(i * 784, 784);
            var features = extractor.Extract(image);
            return new QueryObservation(features.Digest, labels[i], features.Thumbnail, fingerprinter.Fingerprint(image, 0f, 1f), false);
        })];

        // Every client starts at its own place in the test set and is filled to its caps.
        _detectors = new ClientDetectors[Clients];
        _prada = new PradaDetector[Clients];
        _next = new int[Clients];
        for (var c = 0; c < Clients; c++)
        {
            _detectors[c] = new ClientDetectors(options);
            _prada[c] = new PradaDetector(options.Prada);
            for (var i = 0; i < options.Blacklight.IndexCapacity; i++)
            {
                var query = Query(c);
                _detectors[c].Observe(query);
                _prada[c].Observe(query.Label, query.Features);
            }
        }

        // The shards filled past their capacity with the clients' next queries in turn (these
        // clients' own indexes do not see them), so every lookup also evicts.
        _shards = [.. Enumerable.Range(0, Shards).Select(_ => new HashPostings<IndexBenchmarks.ClientOwner>(options.CrossClientShardCapacity, options.CrossClientPostingsPerHash))];
        _owners = [.. Enumerable.Range(0, Clients).Select(c => new IndexBenchmarks.ClientOwner($"client-{c}"))];
        _share = [.. Enumerable.Range(0, Shards).Select(_ => new ulong[Keep])];
        for (var i = 0; _shards[0].Count < _shards[0].Capacity || i < 20_000; i++)
        {
            ShardsLookupAndAdd(i % Clients, Query(i % Clients));
        }
    }

    private QueryObservation Query(int client)
    {
        var index = ((client * 311) + _next[client]++) % _queries.Length;
        return _queries[index] with { Digest = ++_counter };
    }

    /// <summary>All stateful detectors of the next of 32 clients observing its next query.</summary>
    [Benchmark]
    public DetectorSignals ObserveQuery32Clients()
    {
        var client = _client;
        _client = (client + 1) % Clients;
        return _detectors[client].Observe(Query(client));
    }

    /// <summary>
    /// As <see cref="ObserveQuery32Clients"/>, and the query's hashes looked up and added in the 4
    /// shards of the cluster-wide index (each its share, at its capacity, as the silo splits them):
    /// both Blacklight indexes' memory (32 client indexes, 4 shards) competing for the cache, as in
    /// the server, where each alone stays warmer than there.
    /// </summary>
    [Benchmark]
    public int ObserveQuery32ClientsAndShards()
    {
        var client = _client;
        _client = (client + 1) % Clients;
        var query = Query(client);
        var found = _detectors[client].Observe(query).BlacklightBestOverlap;
        found += ShardsLookupAndAdd(client, query);
        return found;
    }

    private int ShardsLookupAndAdd(int client, QueryObservation query)
    {
        var fingerprint = query.Fingerprint!;
        var found = 0;
        for (var s = 0; s < Shards; s++)
        {
            var share = _share[s];
            var length = 0;
            foreach (var hash in fingerprint)
            {
                if (hash % Shards == (ulong)s)
                {
                    share[length++] = hash;
                }
            }

            _found.Clear();
            found += _shards[s].LookupAndAdd(_owners[client], query.Digest, share.AsSpan(0, length), 2, _found);
        }

        return found;
    }

    /// <summary>PRADA alone (nearest class-set member, distance window, Shapiro-Wilk) for the next of 32 clients.</summary>
    [Benchmark]
    public PradaObservation Prada32Clients()
    {
        var client = _pradaClient;
        _pradaClient = (client + 1) % Clients;
        var query = _queries[((client * 311) + _next[client]++) % _queries.Length];
        return _prada[client].Observe(query.Label, query.Features);
    }
}
