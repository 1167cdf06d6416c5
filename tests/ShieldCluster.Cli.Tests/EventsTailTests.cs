using System.Text.Json;

namespace ShieldCluster.Cli.Tests;

/// <summary><c>shield events tail</c> against a real server: the audit trail, filtered, and followed.</summary>
[Collection(ServerCollection.Name)]
public class EventsTailTests(ServerFixture server)
{
    [Fact]
    public async Task Tail_Client_ShowsBlockAndUnblockOldestFirst_TableAndJson()
    {
        await server.CreateClientAsync("cli-events");
        Assert.Equal(0, (await server.ShieldAsync("clients", "block", "cli-events", "--reason", "events test block")).ExitCode);
        Assert.Equal(0, (await server.ShieldAsync("clients", "unblock", "cli-events", "--reason", "events test unblock")).ExitCode);

        var json = await server.ShieldAsync("events", "tail", "--client", "cli-events", "--json");
        var table = await server.ShieldAsync("events", "tail", "--client", "cli-events");

        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Out);
        var events = document.RootElement.GetProperty("events").EnumerateArray().ToList();
        Assert.All(events, e => Assert.Equal("cli-events", e.GetProperty("clientId").GetString()));
        var reasons = events.Select(e => e.GetProperty("reason").GetString()).ToList();
        Assert.True(reasons.IndexOf("events test block") is >= 0 and var b && reasons.IndexOf("events test unblock") > b, string.Join(" | ", reasons));
        Assert.Contains(events, e => e.GetProperty("actor").GetString() == "ops" && e.GetProperty("to").GetString() == "blocked");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("events test block", table.Out, StringComparison.Ordinal);
        Assert.Contains("blocked", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_SinceTheFuture_IsEmpty()
    {
        var result = await server.ShieldAsync("events", "tail", "--since", DateTimeOffset.UtcNow.AddDays(1).ToString("O"), "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Out);
        Assert.Empty(document.RootElement.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task Follow_PrintsNewEventsOnceAsJsonLines_UntilCancelled()
    {
        await server.CreateClientAsync("cli-follow");
        Assert.Equal(0, (await server.ShieldAsync("clients", "block", "cli-follow", "--reason", "before following")).ExitCode);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var shield = new Shield();
        var following = shield.StartAsync(server.Environment, ["events", "tail", "--client", "cli-follow", "--follow", "--json"], cancellationToken: cancel.Token);

        await WaitForAsync(() => shield.Out.Contains("before following", StringComparison.Ordinal), "the existing event");
        Assert.Equal(0, (await server.ShieldAsync("clients", "unblock", "cli-follow", "--reason", "while following")).ExitCode);
        await WaitForAsync(() => shield.Out.Contains("while following", StringComparison.Ordinal), "the new event");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // at least one more poll: nothing may repeat
        await cancel.CancelAsync();
        var result = await following;

        Assert.True(result.ExitCode == 0, result.ToString());
        server.AssertNoAdminKey(result.All);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var reasons = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("reason").GetString()).ToList();
        // Every event of the client once, oldest first, ending with the two this test caused.
        Assert.Equal(reasons.Distinct().Count(), reasons.Count);
        Assert.Equal(["before following", "while following"], reasons[^2..]);
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"events tail --follow did not print {what} within 15 s");
            await Task.Delay(50);
        }
    }
}
