using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;
using ShieldCluster.Grains;
using ShieldCluster.Grains.Options;
using ShieldCluster.Inference;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Testing;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// A real in-process Orleans cluster (two silos, in-memory storage) with the product's grains, the
/// real model repository and a fake clock for the product's time, shared by the grain tests.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string TinyPlan = "tiny";
    public const string SmallBudgetPlan = "small-budget";
    public const string MisinformPlan = "misinform";
    public const string PeersPlan = "peers";
    public const string FewPeersPlan = "few-peers";
    public const string FastPlan = "fast";
    public const string ShallowBucketPlan = "shallow-bucket";
    public const int PeersPlanBudget = 400;
    public const int HistoryCapacity = 200;
    public static readonly TimeSpan HistoryRetention = TimeSpan.FromHours(1);

    public static FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    /// <summary>The audit trail every silo of the test cluster appends to.</summary>
    public static ShieldCluster.Grains.Audit.MemoryAuditLog Audit { get; } = new(10_000, TimeSpan.FromDays(3650), Time);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Services.Configure<IdentityOptions>(o =>
            {
                o.Plans[IdentityOptions.DefaultPlan] = new PlanOptions();
                o.Plans[TinyPlan] = new PlanOptions { RequestsPerSecond = 1, Burst = 3, DailyQuota = 10 };
                // These two count the budget exactly (no coverage weight): their tests step at 20, 30, 40 novel inputs.
                o.Plans[SmallBudgetPlan] = new PlanOptions { Risk = new() { ExtractionBudget = 20, Misinform = false, ConcentratedWeight = 1 } };
                o.Plans[MisinformPlan] = new PlanOptions { Risk = new() { ExtractionBudget = 20, Misinform = true, ConcentratedWeight = 1 } };
                o.Plans[PeersPlan] = new PlanOptions { Burst = 10_000, Risk = new() { ExtractionBudget = PeersPlanBudget, PeerFloor = 10 } };
                o.Plans[FewPeersPlan] = new PlanOptions { Burst = 10_000, Risk = new() { ExtractionBudget = PeersPlanBudget, PeerFloor = 10 } };
                o.Plans[FastPlan] = new PlanOptions { RequestsPerSecond = 1_000, Burst = 10_000, DailyQuota = 1_000_000 };
                o.Plans[ShallowBucketPlan] = new PlanOptions { RequestsPerSecond = 400, Burst = 40, DailyQuota = 1_000_000 };
                o.Clients["configured"] = new ClientOptions { ApiKeySha256 = new string('a', 64), Plan = TinyPlan, Models = ["fashion-mnist"] };
            });
            host.Services.Configure<ProtectionOptions>(o =>
            {
                o.HistoryCapacity = HistoryCapacity;
                o.StateWriteInterval = TimeSpan.FromMilliseconds(100);
                o.HistoryWriteInterval = TimeSpan.FromMilliseconds(100);
                o.HistoryRetention = HistoryRetention;
            });
            // Every recorded request reports to the plan's peers (10 s in production), so the tests need not wait.
            host.Services.Configure<ShieldCluster.Protection.Detectors.DetectionOptions>(o => o.PeerReportInterval = TimeSpan.Zero);
            host.Services.Configure<InferenceOptions>(o => o.ModelRepository = RepositoryPaths.Models);
            host.Services.AddKeyedSingleton<TimeProvider>(ShieldTime.Key, Time);
            host.Services.AddSingleton<ShieldCluster.Grains.Audit.IAuditLog>(Audit);
            host.Services.AddSingleton<ExecutionProviderSelector>();
            host.Services.AddSingleton<ModelRepository>();
        });
        builder.ConfigureSilo((_, silo) => silo.AddMemoryGrainStorage(ShieldStorage.Name).AddMemoryGrainStorage(ShieldStorage.History));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
