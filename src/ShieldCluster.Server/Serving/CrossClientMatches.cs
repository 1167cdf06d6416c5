using System.Runtime.InteropServices;
using ShieldCluster.Contracts;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// Judges a batch of queries from the shards' answers: a query's count of shared hashes with an
/// earlier query is the sum of what each shard saw of it; the query matches another client when
/// that sum exceeds the match threshold for one of the client's queries with different content
/// (identical inputs never match), unless the content is popular (queries of
/// <c>popularClients</c> or more clients reach the threshold).
/// </summary>
internal static class CrossClientMatches
{
    /// <summary>
    /// For each query of the batch, the other clients it matched (each once), or null. Each shard's
    /// answer lists its hits in ascending query order (as <c>FingerprintShardGrain</c> answers), so
    /// every query's hits are summed apart from the others' in a small table.
    /// </summary>
    /// <param name="digests">Each query's digest, by its index in the batch.</param>
    /// <param name="answers">Each shard's hits for the batch.</param>
    /// <param name="matchThreshold">The shared hashes a match must exceed.</param>
    /// <param name="popularClients">Clients at which content counts as popular.</param>
    /// <exception cref="InvalidOperationException">An answer is out of query order or names a query beyond the batch.</exception>
    public static string[]?[] Find(ReadOnlySpan<ulong> digests, IReadOnlyList<ShardMatch[]> answers, int matchThreshold, int popularClients) =>
        Find(digests, answers, matchThreshold, popularClients, new Workspace());

    /// <summary>As the other form, with tables kept from one batch to the next (one caller at a time).</summary>
    /// <param name="digests">Each query's digest, by its index in the batch.</param>
    /// <param name="answers">Each shard's hits for the batch.</param>
    /// <param name="matchThreshold">The shared hashes a match must exceed.</param>
    /// <param name="popularClients">Clients at which content counts as popular.</param>
    /// <param name="workspace">The tables, grown by earlier batches (a batch's queries would regrow them otherwise).</param>
    /// <exception cref="InvalidOperationException">An answer is out of query order or names a query beyond the batch.</exception>
    public static string[]?[] Find(ReadOnlySpan<ulong> digests, IReadOnlyList<ShardMatch[]> answers, int matchThreshold, int popularClients, Workspace workspace)
    {
        var matches = new string[]?[digests.Length];
        var cursors = new int[answers.Count];
        var (sums, all, near) = (workspace.Sums, workspace.All, workspace.Near);
        for (var query = 0; query < digests.Length; query++)
        {
            sums.Clear();
            for (var s = 0; s < answers.Count; s++)
            {
                var answer = answers[s];
                ref var cursor = ref cursors[s];
                for (; cursor < answer.Length && answer[cursor].Query <= query; cursor++)
                {
                    ref readonly var hit = ref answer[cursor];
                    if (hit.Query < query)
                    {
                        throw new InvalidOperationException($"shard {s} answered query {hit.Query} after query {query}'s hits");
                    }

                    CollectionsMarshal.GetValueRefOrAddDefault(sums, new Earlier(hit.ClientId, hit.Digest), out _) += hit.Shared;
                }
            }

            if (sums.Count == 0)
            {
                continue;
            }

            all.Clear();
            near.Clear();
            foreach (var (earlier, shared) in sums)
            {
                if (shared <= matchThreshold)
                {
                    continue;
                }

                all.Add(earlier.Client);
                if (earlier.Digest != digests[query])
                {
                    near.Add(earlier.Client);
                }
            }

            if (near.Count > 0 && all.Count < popularClients)
            {
                matches[query] = [.. near];
            }
        }

        for (var s = 0; s < answers.Count; s++)
        {
            if (cursors[s] < answers[s].Length)
            {
                throw new InvalidOperationException($"shard {s} answered query {answers[s][cursors[s]].Query} of a batch of {digests.Length}");
            }
        }

        return matches;
    }

    /// <summary>The tables <see cref="Find(ReadOnlySpan{ulong}, IReadOnlyList{ShardMatch[]}, int, int, Workspace)"/> sums and judges a query in.</summary>
    public sealed class Workspace
    {
        internal Dictionary<Earlier, int> Sums { get; } = new(EarlierComparer.Instance);

        internal HashSet<string> All { get; } = new(StringComparer.Ordinal);

        internal HashSet<string> Near { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>An earlier query: its client and its content's digest.</summary>
    internal readonly record struct Earlier(string Client, ulong Digest);

    /// <summary>Ordinal, without the generic tuple comparer's shared-code dispatch.</summary>
    private sealed class EarlierComparer : IEqualityComparer<Earlier>
    {
        public static readonly EarlierComparer Instance = new();

        public bool Equals(Earlier x, Earlier y) => x.Digest == y.Digest && string.Equals(x.Client, y.Client, StringComparison.Ordinal);

        public int GetHashCode(Earlier obj) => HashCode.Combine(obj.Digest, string.GetHashCode(obj.Client, StringComparison.Ordinal));
    }
}
