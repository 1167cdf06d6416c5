using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Grains;
using ShieldCluster.Grains.Options;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Server.Identity;
using ShieldCluster.Server.Options;

namespace ShieldCluster.Server.Hosting;

/// <summary>
/// Runs after the silo has started: loads the model repository, warns when state is not durable,
/// creates the embedded default's <c>demo</c> client when no client is configured (printing its
/// random key once), then marks the server ready.
/// </summary>
public sealed partial class StartupTasks(
    ModelRepository models,
    IOptions<ShieldOptions> shield,
    IOptions<IdentityOptions> identity,
    IOptions<ProtectionOptions> protection,
    IGrainFactory grains,
    ServerReadiness readiness,
    DemoKeyOutput demoKeyOutput,
    [FromKeyedServices(ShieldTime.Key)] TimeProvider time,
    ILogger<StartupTasks> logger) : IHostedService
{
    /// <summary>The demo client's id.</summary>
    public const string DemoClientId = "demo";

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (models.Models.Count == 0)
        {
            Log.NoModels(logger, models.Root);
        }

        if (!protection.Value.Enabled)
        {
            Log.ProtectionOff(logger);
        }

        if (shield.Value.Redis is null)
        {
            Log.NotDurable(logger);
            if (identity.Value.Clients.Count == 0)
            {
                await CreateDemoClientAsync();
            }
        }

        readiness.MarkReady();
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task CreateDemoClientAsync()
    {
        var key = ApiKeys.Generate();
        var profile = new ClientProfile(IdentityOptions.DefaultPlan, null, ClientSource.Demo, time.GetUtcNow());
        if (!await grains.GetGrain<IClientGrain>(DemoClientId).RegisterAsync(profile, ApiKeys.Hash(key), "startup")
            || !await grains.GetGrain<IApiKeyGrain>(ApiKeys.Hash(key)).BindAsync(DemoClientId))
        {
            return;
        }

        // Printed, never logged: log pipelines are shipped and kept; this line is for the person at the terminal.
        await demoKeyOutput.Writer.WriteLineAsync(
            $"""

            No client is configured: created client '{DemoClientId}' on plan '{IdentityOptions.DefaultPlan}'. Its API key, shown only this once:

                {key}

            """);
        await demoKeyOutput.Writer.FlushAsync();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Embedded default: localhost clustering and in-memory grain storage. State is NOT durable and is lost when this process stops.")]
        public static partial void NotDurable(ILogger logger);

        [LoggerMessage(2, LogLevel.Critical, "PROTECTION IS OFF (Shield:Protection:Enabled=false): no quota, detector, input filter or output hardening runs. For measuring the unprotected baseline only.")]
        public static partial void ProtectionOff(ILogger logger);

        [LoggerMessage(3, LogLevel.Error, "No model could be loaded from {Root}; the server stays not ready")]
        public static partial void NoModels(ILogger logger, string root);
    }
}

/// <summary>Where the demo client's key is printed: standard output, or a test's writer.</summary>
public sealed class DemoKeyOutput(TextWriter writer)
{
    /// <summary>The writer.</summary>
    public TextWriter Writer { get; } = writer;
}
