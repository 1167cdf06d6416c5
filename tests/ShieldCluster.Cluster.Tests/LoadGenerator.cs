using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace ShieldCluster.Cluster.Tests;

/// <summary>
/// Drives many clients through every live front end of a <see cref="SiloCluster"/> (round robin,
/// as a load balancer that drops a pod once its process is gone) and keeps its own counts: per
/// client, when each request was answered and with what.
/// </summary>
internal sealed class LoadGenerator(SiloCluster cluster, IReadOnlyDictionary<string, string> keys, int concurrencyPerClient = 1)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ConcurrentDictionary<string, ConcurrentQueue<Outcome>> Outcomes { get; } = new();

    /// <summary>Seconds since the generator was made.</summary>
    public double Now => _clock.Elapsed.TotalSeconds;

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(keys.SelectMany(k => Enumerable.Range(0, concurrencyPerClient).Select(i => LoopAsync(k.Key, k.Value, i, cancellationToken))));

    /// <summary>Requests of <paramref name="clientId"/> answered 200.</summary>
    public int Served(string clientId, double? until = null) =>
        Outcomes.GetValueOrDefault(clientId)?.Count(o => o.Status == HttpStatusCode.OK && (until is null || o.At <= until)) ?? 0;

    /// <summary>All outcomes that were neither 200 nor the client's own refusal (403 for a blocked client).</summary>
    public IEnumerable<(string Client, Outcome Outcome)> Failures(Func<string, HttpStatusCode, bool> expected) =>
        Outcomes.SelectMany(p => p.Value.Where(o => !expected(p.Key, o.Status)).Select(o => (p.Key, o)));

    private async Task LoopAsync(string clientId, string apiKey, int offset, CancellationToken cancellationToken)
    {
        var outcomes = Outcomes.GetOrAdd(clientId, _ => new ConcurrentQueue<Outcome>());
        var turn = offset + clientId.GetHashCode(StringComparison.Ordinal);
        while (!cancellationToken.IsCancellationRequested)
        {
            var live = cluster.Live;
            if (live.Count == 0)
            {
                await Task.Delay(10, CancellationToken.None);
                continue;
            }

            var silo = live[(int)((uint)turn++ % (uint)live.Count)];
            var sent = Now;
            HttpStatusCode status;
            try
            {
                status = await cluster.InferAsync(silo, apiKey, CancellationToken.None);
            }
            catch (HttpRequestException)
            {
                status = 0; // connection refused or reset: the front end itself died
            }
            catch (TaskCanceledException)
            {
                status = HttpStatusCode.RequestTimeout;
            }

            outcomes.Enqueue(new Outcome(sent, Now, status));
        }
    }

    /// <summary>One request: when it was sent and answered (seconds since start) and its status (0: no HTTP answer).</summary>
    public sealed record Outcome(double Sent, double At, HttpStatusCode Status);
}
