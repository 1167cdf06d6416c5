using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Orleans.TestingHost;
using ShieldCluster.Grains.Options;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// A one-silo in-process cluster whose history store is a <see cref="RecordingGrainStorage"/>, with
/// a fake clock of its own, for the tests of how client grains store their history.
/// </summary>
public sealed class HistoryStoreFixture : IAsyncLifetime
{
    public const int HistoryCapacity = 1_000;
    public static readonly TimeSpan HistoryRetention = TimeSpan.FromHours(1);

    public static FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    internal static RecordingGrainStorage Storage { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Services.Configure<IdentityOptions>(o => o.Plans[IdentityOptions.DefaultPlan] = new PlanOptions());
            host.Services.Configure<ProtectionOptions>(o =>
            {
                o.HistoryCapacity = HistoryCapacity;
                o.StateWriteInterval = TimeSpan.FromMilliseconds(100);
                o.HistoryWriteInterval = TimeSpan.FromMilliseconds(100);
                o.HistoryRetention = HistoryRetention;
            });
            host.Services.AddKeyedSingleton<TimeProvider>(ShieldTime.Key, Time);
            host.Services.AddSingleton<ShieldCluster.Grains.Audit.IAuditLog>(new ShieldCluster.Grains.Audit.MemoryAuditLog(10_000, TimeSpan.FromDays(3650), Time));
            host.Services.AddKeyedSingleton<IGrainStorage>(ShieldStorage.History, Storage);
        });
        builder.ConfigureSilo((_, silo) => silo.AddMemoryGrainStorage(ShieldStorage.Name));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
