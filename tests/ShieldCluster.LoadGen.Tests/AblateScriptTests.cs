using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ShieldCluster.LoadGen;
using Xunit.Abstractions;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>
/// benchmarks/ablate.sh (what each part of protection costs) runs end to end on a short pass: the
/// generator starts both servers, the configuration's setting reaches them, and the table has the
/// configuration's ratio and added CPU. What it measures is not checked.
/// </summary>
[Collection(ServerCollection.Name)]
public partial class AblateScriptTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OneRound_OneConfiguration_ReportsItsRatio_AndPassesItsSetting()
    {
        var dir = Directory.CreateTempSubdirectory("ablate-test-");
        try
        {
            var (exit, stdout, stderr) = await RunAsync(
                ["1", "nosqueeze=Shield__Protection__Squeezing=Never,Shield__Protection__SqueezingSampleRate=0"],
                new()
                {
                    ["ABLATE_DIR"] = dir.FullName,
                    ["ABLATE_DURATION"] = "1",
                    ["ABLATE_WARMUP"] = "0",
                    ["ABLATE_CONCURRENCY"] = "4",
                    ["ABLATE_GENERATOR"] = Path.Combine(AppContext.BaseDirectory, "ShieldCluster.LoadGen.dll"),
                },
                TimeSpan.FromSeconds(150));
            output.WriteLine(stderr);
            output.WriteLine(stdout);
            Assert.True(exit == 0, $"exit code {exit}: {stderr}");

            var row = TableRow().Match(stdout);
            Assert.True(row.Success, stdout);
            var ratio = double.Parse(row.Groups["ratio"].Value, CultureInfo.InvariantCulture);
            Assert.InRange(ratio, 0.01, 100);
            Assert.Equal(row.Groups["ratio"].Value, row.Groups["median"].Value);

            var report = BenchmarkReport.FromJson(await File.ReadAllTextAsync(Path.Combine(dir.FullName, "nosqueeze-1.json")));
            Assert.Equal([PhaseNames.Unprotected, PhaseNames.Protected], report.Phases.Select(p => p.Name));
            Assert.Contains("Shield__Protection__Squeezing=Never", report.ServerEnvironment);
            Assert.Contains("Shield__Protection__SqueezingSampleRate=0", report.ServerEnvironment);
            Assert.All(report.Phases, p => Assert.True(p.Ok > 0 && p.Failed == 0, $"{p.Name}: {p.Ok} answered, {p.Failed} failed"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { "0", "default" }, "ROUNDS is a positive number")]
    [InlineData(new[] { "2" }, "give at least one configuration")]
    [InlineData(new[] { "2", "bad name" }, "a configuration's name is letters")]
    [InlineData(new[] { "2", "x=novalue" }, "'novalue' in x is not KEY=VALUE")]
    public async Task ABadCommandLine_ExitsWith2_AndSaysWhy_BeforeStartingAnything(string[] args, string message)
    {
        var (exit, _, stderr) = await RunAsync(args, new() { ["ABLATE_DIR"] = Path.Combine(Path.GetTempPath(), "ablate-never-" + Guid.NewGuid().ToString("N")) }, TimeSpan.FromSeconds(30));
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string[] args, Dictionary<string, string> environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(LoadGenApp.FindRepositoryRoot()!, "benchmarks", "ablate.sh"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        using var cancel = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cancel.Token);
        var stderr = process.StandardError.ReadToEndAsync(cancel.Token);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"ablate.sh ran past {timeout}: {string.Join(' ', args)}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    [GeneratedRegex(@"^\| nosqueeze \| (?<ratio>[0-9.]+) \| (?<median>[0-9.]+) \| -?[0-9]+ \| -?[0-9]+ \|$", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
