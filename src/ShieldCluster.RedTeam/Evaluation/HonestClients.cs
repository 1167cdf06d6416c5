using ShieldCluster.RedTeam.Data;
using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>
/// Honest clients, the other half of an evaluation: each sends test images in its own random
/// order, one per request, with retries, near-duplicates and a shared pool of popular images, the
/// traffic a detector must not mistake for an attack.
/// </summary>
/// <remarks>
/// A client counts as flagged when any answer was refused (403) or degraded, or its admin report
/// shows enforcement ever above ok (its events). A 429 under the client's own plan is ordinary rate
/// limiting, waited out and not counted.
/// </remarks>
public sealed class HonestClients(HonestClientsOptions options)
{
    /// <summary>Runs the clients against the context's target.</summary>
    public async Task<HonestClientsResult> RunAsync(AttackContext context, CancellationToken cancellationToken)
    {
        var test = context.Data.Test;
        var poolRandom = context.Random("honest-popular");
        var popular = Enumerable.Range(0, options.PopularImages).Select(_ => poolRandom.Next(test.Count)).ToArray();
        var clients = new QueryRecorder[options.Clients];
        for (var k = 0; k < options.Clients; k++)
        {
            clients[k] = await context.NewObserverAsync("honest", cancellationToken);
        }

        var done = 0;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, options.Clients),
            new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken },
            async (k, ct) =>
            {
                await RunClientAsync(clients[k], test, popular, context.Random($"honest-{k}"), ct);
                context.Progress?.Report((double)Interlocked.Increment(ref done) / options.Clients);
            });

        var flagged = new List<string>();
        var detectorFiring = 0;
        foreach (var client in clients)
        {
            var report = await context.Target.GetReportAsync(client.ClientId, cancellationToken);
            if (report?.Detectors.Any(d => d.Score >= 1) == true)
            {
                detectorFiring++;
            }

            var reasons = new List<string>();
            if (client.Refusals > 0)
            {
                reasons.Add($"{client.Refusals} refused");
            }

            if (client.DegradedItems > 0)
            {
                reasons.Add($"{client.DegradedItems} degraded");
            }

            if (report is not null && report.WorstEnforcement != "ok")
            {
                reasons.Add($"enforcement {report.WorstEnforcement}");
            }

            if (reasons.Count > 0)
            {
                flagged.Add($"{client.ClientId}: {string.Join(", ", reasons)}");
            }
        }

        var queries = clients.Sum(c => c.Queries);
        var degraded = clients.Sum(c => c.DegradedItems);
        var failures = clients.Where(c => c.Failures > 0).Select(c => c.LastError).FirstOrDefault();
        return new HonestClientsResult
        {
            Target = context.State.Label,
            Clients = options.Clients,
            QueriesPerClient = options.QueriesPerClient,
            Queries = queries,
            ClientsFlagged = flagged.Count,
            ShareClientsFlagged = options.Clients == 0 ? 0 : (double)flagged.Count / options.Clients,
            ClientsWithDetectorFiring = detectorFiring,
            DegradedQueries = degraded,
            ShareQueriesDegraded = queries == 0 ? 0 : (double)degraded / queries,
            Refusals = clients.Sum(c => c.Refusals),
            RateLimitWaits = clients.Sum(c => c.RateLimitWaits),
            Flagged = flagged,
            Error = failures is null ? null : $"honest queries failed: {failures}",
        };
    }

    private async Task RunClientAsync(QueryRecorder client, ImageDataset test, int[] popular, Random random, CancellationToken cancellationToken)
    {
        var order = Enumerable.Range(0, test.Count).ToArray();
        random.Shuffle(order);
        var next = 0;
        var sent = new List<int>();
        float[]? previous = null;
        for (var q = 0; q < options.QueriesPerClient; q++)
        {
            var roll = random.NextDouble();
            float[] image;
            if (previous is not null && roll < options.RetryShare)
            {
                image = previous;
            }
            else if (sent.Count > 0 && roll < options.RetryShare + options.NearDuplicateShare)
            {
                image = NearDuplicate(test.CopyImage(sent[random.Next(sent.Count)]), random);
            }
            else if (roll < options.RetryShare + options.NearDuplicateShare + options.PopularShare)
            {
                var index = popular[random.Next(popular.Length)];
                sent.Add(index);
                image = test.CopyImage(index);
            }
            else
            {
                var index = order[next++ % order.Length];
                sent.Add(index);
                image = test.CopyImage(index);
            }

            previous = image;
            var response = await client.InferAsync(image, 1, cancellationToken);
            if (response.Kind == ResponseKind.Blocked)
            {
                return;
            }
        }
    }

    /// <summary>A one-pixel shift, a 10% brightness change, or re-encoding noise, as real clients produce.</summary>
    internal static float[] NearDuplicate(float[] image, Random random)
    {
        var side = (int)Math.Round(Math.Sqrt(image.Length));
        var result = new float[image.Length];
        switch (random.Next(3))
        {
            case 0:
                var (dr, dc) = random.Next(4) switch { 0 => (1, 0), 1 => (-1, 0), 2 => (0, 1), _ => (0, -1) };
                for (var r = 0; r < side; r++)
                {
                    for (var c = 0; c < side; c++)
                    {
                        var sr = r - dr;
                        var sc = c - dc;
                        result[(r * side) + c] = sr >= 0 && sr < side && sc >= 0 && sc < side ? image[(sr * side) + sc] : 0f;
                    }
                }

                break;
            case 1:
                for (var i = 0; i < image.Length; i++)
                {
                    result[i] = Math.Clamp(image[i] * 1.1f, 0f, 1f);
                }

                break;
            default:
                // Lossy re-encoding: small noise, then back to 8-bit levels.
                for (var i = 0; i < image.Length; i++)
                {
                    var noisy = Math.Clamp(image[i] + (0.01f * SeededRandom.NextGaussian(random)), 0f, 1f);
                    result[i] = MathF.Round(noisy * 255f) / 255f;
                }

                break;
        }

        return result;
    }
}
