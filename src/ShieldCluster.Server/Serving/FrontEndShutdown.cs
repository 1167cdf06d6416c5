namespace ShieldCluster.Server.Serving;

/// <summary>
/// The front end's part of a graceful stop. When the silo begins to stop (its <c>Active</c> stage,
/// the first to stop; by then the web server has stopped taking requests), the cross-client lookups
/// stop and every admission lease held here delivers its buffered records and unused admissions to
/// the client grains, before those grains write their state and deactivate. Without it, the leases
/// were delivered when the container was disposed, after the silo had gone: up to a flush interval
/// of each fast client's records, and its lease's unused admissions, were lost at every stop, and
/// the cross-client reports still in flight met deactivating grains (errors and retries in the log).
/// </summary>
internal sealed partial class FrontEndShutdown(CrossClientIndex crossClient, AdmissionLeases leases, ILogger<FrontEndShutdown> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(FrontEndShutdown), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);

    private async Task StopAsync(CancellationToken cancellation)
    {
        try
        {
            await crossClient.StopAsync().WaitAsync(cancellation);
            await leases.StopAsync().WaitAsync(cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The stop is no longer graceful: what the leases held is not delivered.
            Log.Abandoned(logger);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The silo's stop was cut short before the admission leases delivered what they held")]
        public static partial void Abandoned(ILogger logger);
    }
}
