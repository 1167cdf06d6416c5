using System.Text.Json;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// The runtime settings the server ships in its <c>runtimeconfig.json</c> (the file every launch reads:
/// <c>dotnet run</c>, the published app, the container). Why each is there: benchmarks/LOADGEN.md.
/// </summary>
public class RuntimeConfigTests
{
    private static JsonElement ConfigProperties()
    {
        // The server's own file, copied beside the tests with its assembly (the process tests start that copy).
        var path = Path.Combine(AppContext.BaseDirectory, "ShieldCluster.Server.runtimeconfig.json");
        Assert.True(File.Exists(path), $"{path} is missing");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }

    /// <summary>A setting's value as written, whether the SDK wrote it as a number or a string.</summary>
    private static string? Text(JsonElement value) => value.ValueKind == JsonValueKind.Number ? value.GetRawText() : value.GetString();

    [Fact]
    public void Hot_methods_are_counted_for_tier_one_without_the_quiet_period()
    {
        // Under load the default 100 ms quiet period kept the hot paths at tier 0 for 15-20 s after a start.
        var delay = ConfigProperties().GetProperty("System.Runtime.TieredCompilation.CallCountingDelayMs");

        Assert.Equal("0", Text(delay));
    }

    [Fact]
    public void Server_gc_runs_without_dynamic_adaptation()
    {
        // With DATAS (.NET's default for server GC) the protected server cost more CPU per request (benchmarks/LOADGEN.md, Session 29).
        var properties = ConfigProperties();
        var server = properties.GetProperty("System.GC.Server");
        var adaptation = properties.GetProperty("System.GC.DynamicAdaptationMode");

        Assert.Equal(JsonValueKind.True, server.ValueKind);
        Assert.Equal("0", Text(adaptation));
    }
}
