using ShieldCluster.Contracts;
using ShieldCluster.Inference.Repository;

namespace ShieldCluster.Server.Telemetry;

/// <summary>
/// Gauges that need a look at the cluster: clients per enforcement state (from the risk index,
/// refreshed every 10 s off the request path; clients at ok and risk 0 are not in the index) and
/// the execution provider each loaded model version runs on; and, at each scrape, the dynamic
/// batchers' model calls and the items in them.
/// </summary>
public sealed partial class ClusterGauges(IGrainFactory grains, ModelRepository models, ShieldMetrics metrics, TimeProvider time, ILogger<ClusterGauges> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var versions = models.Models.SelectMany(m => m.Versions).ToList();
        foreach (var version in versions)
        {
            metrics.ExecutionProvider.WithLabels(version.Model, version.Version, version.Provider).Set(1);
        }

        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var version in versions)
            {
                if (version.Batcher is { } batcher)
                {
                    metrics.ModelCalls.WithLabels(version.Model, version.Version).IncTo(batcher.Calls);
                    metrics.ModelCallItems.WithLabels(version.Model, version.Version).IncTo(batcher.CallItems);
                }
            }
        });

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10), time);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var entries = await grains.GetGrain<IRiskIndexGrain>(0).TopAsync(100_000);
                foreach (var state in Enum.GetValues<EnforcementState>())
                {
                    metrics.ClientsByEnforcement.WithLabels(state.ToString().ToLowerInvariant()).Set(entries.Count(e => e.Enforcement == state));
                }
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException)
            {
                Log.RefreshFailed(logger, ex);
            }

            try
            {
                await timer.WaitForNextTickAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Refreshing the enforcement gauges failed")]
        public static partial void RefreshFailed(ILogger logger, Exception exception);
    }
}
