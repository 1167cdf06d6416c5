using BenchmarkDotNet.Attributes;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Testing;

namespace ShieldCluster.Benchmarks;

/// <summary>
/// Blacklight's two indexes alone, at their caps: a client's own index (1,000 queries of 50 hashes,
/// in the client's grain) and one shard of the cluster-wide index (250,000 postings, a quarter of
/// each query's hashes, in a shard grain). Both are on every query's path; their per-query garbage
/// is long-lived (it stays in the index until evicted), so the allocated bytes matter as much as the time.
/// </summary>
[MemoryDiagnoser]
public class IndexBenchmarks
{
    private const int Shards = 4;
    private const int Owners = 1_000;

    private ulong[][] _fingerprints = null!;
    private ulong[][] _shardHashes = null!;
    private ClientOwner[] _owners = null!;
    private BlacklightIndex<long> _index = null!;
    private HashPostings<ClientOwner> _shard = null!;
    private readonly List<(ClientOwner Owner, ulong Digest, int Shared)> _found = [];
    private int _nextIndex;
    private int _nextShard;
    private ulong _digest;

    [GlobalSetup]
    public void Setup()
    {
        var options = new DetectionOptions();
        var fingerprinter = new BlacklightFingerprinter(options.Blacklight, new byte[32], 784);
        var (images, _) = FashionMnist.TestSet;
        _fingerprints = [.. Enumerable.Range(0, images.Length / 784).Select(i => fingerprinter.Fingerprint(images.AsSpan(i * 784, 784), 0f, 1f))];

        // A client's index full of its last 1,000 queries; the benchmark sends the next 1,000 and
        // then those again (with new digests), as an attack's near-duplicates would.
        _index = new BlacklightIndex<long>(options.Blacklight.IndexCapacity);
        for (var i = 0; i < options.Blacklight.IndexCapacity; i++)
        {
            _index.Add(_fingerprints[i], ++_digest, i);
        }

        _nextIndex = options.Blacklight.IndexCapacity;

        // Shard 0's share of each query, as the silo splits them; filled past its capacity so that
        // every call also evicts.
        _shardHashes = [.. _fingerprints.Select(f => f.Where(h => h % Shards == 0).ToArray())];
        _owners = [.. Enumerable.Range(0, Owners).Select(i => new ClientOwner($"client-{i}"))];
        _shard = new HashPostings<ClientOwner>(options.CrossClientShardCapacity, options.CrossClientPostingsPerHash);
        while (_shard.Count < _shard.Capacity)
        {
            ShardLookupAndAdd();
        }

        for (var i = 0; i < _shardHashes.Length; i++)
        {
            ShardLookupAndAdd();
        }
    }

    /// <summary>A client's own index: the best earlier match of a new query, then its insertion (and the oldest's eviction).</summary>
    [Benchmark]
    public int BlacklightBestMatchAndAdd()
    {
        var fingerprint = _fingerprints[_nextIndex];
        _nextIndex = _nextIndex + 1 == 2_000 ? 0 : _nextIndex + 1;
        var digest = ++_digest;
        var shared = _index.BestMatch(fingerprint, digest)?.Shared ?? 0;
        _index.Add(fingerprint, digest, (long)digest);
        return shared;
    }

    /// <summary>As <see cref="BlacklightBestMatchAndAdd"/>, in one call (one probe per hash, as the client's detectors use it).</summary>
    [Benchmark]
    public int BlacklightBestMatchAndAddInOneCall()
    {
        var fingerprint = _fingerprints[_nextIndex];
        _nextIndex = _nextIndex + 1 == 2_000 ? 0 : _nextIndex + 1;
        var digest = ++_digest;
        return _index.BestMatchAndAdd(fingerprint, digest, (long)digest)?.Shared ?? 0;
    }

    /// <summary>A new client's index: created, then three queries looked up and added (most clients send few).</summary>
    [Benchmark]
    public int BlacklightNewClientThreeQueries()
    {
        var index = new BlacklightIndex<long>(1_000);
        var shared = 0;
        for (var i = 0; i < 3; i++)
        {
            var digest = ++_digest;
            shared += index.BestMatch(_fingerprints[i], digest)?.Shared ?? 0;
            index.Add(_fingerprints[i], digest, i);
        }

        return shared + index.Count;
    }

    /// <summary>
    /// One shard of the cluster-wide index at its capacity: one query's share looked up (minimum 2
    /// shared) and added, as the shard grain does it (owners a struct around the client id, the
    /// answer into a list the batch reuses).
    /// </summary>
    [Benchmark]
    public int ShardLookupAndAdd()
    {
        var hashes = _shardHashes[_nextShard];
        var owner = _owners[_nextShard % Owners];
        _nextShard = _nextShard + 1 == _shardHashes.Length ? 0 : _nextShard + 1;
        _found.Clear();
        return _shard.LookupAndAdd(owner, ++_digest, hashes, 2, _found);
    }

    /// <summary>A client id as the shard grain holds it.</summary>
    public readonly record struct ClientOwner(string Id);
}
