using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Clients;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Server.Extensions;
using ShieldCluster.Server.Serving;
using ShieldCluster.Testing;

namespace ShieldCluster.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/ShieldCluster.Benchmarks -- scale [clients] [full]</c>:
/// the server's own composition in process (embedded default, no HTTP), driven straight through
/// its grains. (1) <c>full</c> clients with their history at its cap (1,000 items of real
/// Fashion-MNIST features): managed memory per active client grain, and its stored state's bytes.
/// (2) <c>clients</c> distinct clients, each admitted and recorded a few times: the whole run's
/// memory, then idle clients deactivated (their state persisted) and memory again; one is
/// reactivated to check its usage survived.
/// </summary>
public static class ScaleRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var full = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100;
        var builder = WebApplication.CreateBuilder([]);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration["Shield:Inference:ModelRepository"] = FindModels();
        builder.Configuration["Shield:Clients:unused:ApiKeySha256"] = new string('0', 64);
        builder.Configuration["Shield:Plans:scale:RequestsPerSecond"] = "1000000";
        builder.Configuration["Shield:Plans:scale:Burst"] = "1000000";
        builder.Configuration["Shield:Plans:scale:DailyQuota"] = "1000000000";
        builder.Configuration["Shield:Plans:scale:Risk:ExtractionBudget"] = "1000000000";
        builder.Configuration["Shield:Dashboard"] = "false";
        builder.Configuration["Shield:SiloPort"] = "21311";
        builder.Configuration["Shield:GatewayPort"] = "21312";
        builder.AddShieldOptions().AddShieldOrleans().AddShieldOperations().AddShieldInference().AddShieldHttp();
        await using var app = builder.Build();
        await app.StartAsync();
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        var features = app.Services.GetRequiredService<QueryFeatures>();
        var model = app.Services.GetRequiredService<ModelRepository>().Find("fashion-mnist", null)!;
        var serializer = app.Services.GetRequiredService<Serializer>();
        var now = DateTimeOffset.UtcNow;

        // Real features of 1,000 test images, with the model's real scores.
        var records = Enumerable.Range(0, 1_000).Select(i =>
        {
            var image = FashionMnist.TestImage(i);
            return features.Build(model, image, 1, model.Run(image, 1)[0], null, now);
        }).ToArray();

        Console.WriteLine($"(1) {full} clients with full histories (1,000 items each)");
        var before = Managed();
        for (var c = 0; c < full; c++)
        {
            var client = grains.GetGrain<IClientGrain>($"full-{c}");
            await client.RegisterAsync(new ClientProfile("scale", null, ClientSource.AdminApi, now), $"{c:x64}", "scale");
            foreach (var record in records)
            {
                await client.RecordAsync(record);
            }

            await WaitForAsync(client, r => r.HistoryItems >= 1_000);
        }

        var perClient = (Managed() - before) / (double)full;
        var history = new ClientHistory { Records = [.. records] };
        var stored = serializer.SerializeToArray(history).Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    managed memory per active client with a full history: {perClient / 1024:F0} KiB; its stored history: {stored / 1024.0:F0} KiB ({stored / 1000.0:F0} bytes per item)"));

        Console.WriteLine($"(2) {clients:N0} distinct clients, 3 requests of 1 item each");
        var watch = Stopwatch.StartNew();
        before = Managed();
        var start = Process.GetCurrentProcess().WorkingSet64;
        await Parallel.ForEachAsync(Enumerable.Range(0, clients), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) =>
        {
            var client = grains.GetGrain<IClientGrain>($"c-{c}");
            await client.RegisterAsync(new ClientProfile("scale", null, ClientSource.AdminApi, now), $"{c:x64}", "scale");
            for (var r = 0; r < 3; r++)
            {
                await client.AdmitAsync(1);
                await client.RecordAsync(records[(c + r) % records.Length]);
            }
        });
        var activeBytes = Managed() - before;
        var activations = await grains.GetGrain<IManagementGrain>(0).GetTotalActivationCount();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    {clients:N0} clients in {watch.Elapsed.TotalSeconds:F1} s ({clients * 6 / watch.Elapsed.TotalSeconds:F0} grain calls/s); {activations:N0} activations; managed memory +{activeBytes / 1048576.0:F0} MiB ({activeBytes / (double)clients:F0} bytes per client with 3 items of history); working set +{(Process.GetCurrentProcess().WorkingSet64 - start) / 1048576.0:F0} MiB"));

        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var idle = await grains.GetGrain<IManagementGrain>(0).GetTotalActivationCount();
        var afterCollection = Managed() - before;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    idle clients deactivated: {idle:N0} activations left; managed memory now +{afterCollection / 1048576.0:F0} MiB over the start (the embedded default keeps deactivated state in its in-memory store)"));

        var back = await grains.GetGrain<IClientGrain>($"c-{clients / 2}").GetReportAsync();
        Console.WriteLine($"    a deactivated client reactivated with its usage: {back?.Usage.TotalRequests} requests, {back?.HistoryItems} history items");
        await app.StopAsync();
        return back?.Usage.TotalRequests == 3 ? 0 : 1;
    }

    private static long Managed()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task WaitForAsync(IClientGrain client, Func<ClientReport, bool> condition)
    {
        while (!condition((await client.GetReportAsync())!))
        {
            await Task.Delay(5);
        }
    }

    private static string FindModels()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "models", "fashion-mnist")))
            {
                return Path.Combine(dir.FullName, "models");
            }
        }

        throw new DirectoryNotFoundException("models/ not found above the program");
    }
}
