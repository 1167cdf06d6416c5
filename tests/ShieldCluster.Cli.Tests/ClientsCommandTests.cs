using System.Net;
using System.Text.Json;

namespace ShieldCluster.Cli.Tests;

/// <summary><c>shield clients ...</c> against a real server: create, top, show, block and unblock.</summary>
[Collection(ServerCollection.Name)]
public class ClientsCommandTests(ServerFixture server)
{
    [Fact]
    public async Task Create_PrintsTheKeyOnceAloneOnStdout_AndTheKeyServesInference()
    {
        var result = await server.ShieldAsync("clients", "create", "cli-create", "--plan", "standard", "--model", "fashion-mnist");

        Assert.True(result.ExitCode == 0, result.ToString());
        var key = result.Out.Trim();
        Assert.StartsWith("shk_", key, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', key);
        Assert.Equal(1, Occurrences(result.All, key));
        Assert.Contains("shown only this once", result.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await server.InferAsync(key));
    }

    [Fact]
    public async Task Create_Json_PrintsOnlyTheServersJson()
    {
        var result = await server.ShieldAsync("clients", "create", "cli-create-json", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Out);
        Assert.Equal("cli-create-json", document.RootElement.GetProperty("clientId").GetString());
        Assert.StartsWith("shk_", document.RootElement.GetProperty("apiKey").GetString(), StringComparison.Ordinal);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task Create_Twice_ExitsFiveWithTheServersMessage()
    {
        await server.CreateClientAsync("cli-twice");

        var again = await server.ShieldAsync("clients", "create", "cli-twice");

        Assert.True(again.ExitCode == 5, again.ToString());
        Assert.Equal("", again.Out);
        Assert.Contains("already exists", again.Error, StringComparison.Ordinal);
        Assert.Contains("409", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_InvalidId_ExitsFiveOnTheServers400()
    {
        var result = await server.ShieldAsync("clients", "create", "Not_Valid");

        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains("clientId must match", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Top_ListsTheClient_AsTableAndAsJson()
    {
        // The risk index learns of a client when its risk or enforcement changes (one-way, so poll briefly).
        await server.CreateClientAsync("cli-top");
        Assert.Equal(0, (await server.ShieldAsync("clients", "block", "cli-top", "--reason", "top test")).ExitCode);

        CliResult table;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            table = await server.ShieldAsync("clients", "top", "--top", "1000");
            Assert.True(table.ExitCode == 0, table.ToString());
        }
        while (!table.Out.Contains("cli-top", StringComparison.Ordinal) && DateTime.UtcNow < deadline && await Delay());
        var json = await server.ShieldAsync("clients", "top", "--top", "1000", "--json");

        var row = table.Out.Split('\n').Single(l => l.Contains("cli-top", StringComparison.Ordinal));
        Assert.Contains("blocked", row, StringComparison.Ordinal);
        Assert.Matches(@"\d\.\d\d", row);
        Assert.Contains("Enforcement", table.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", table.Out, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Out);
        Assert.Contains(document.RootElement.GetProperty("clients").EnumerateArray(),
            c => c.GetProperty("clientId").GetString() == "cli-top" && c.GetProperty("enforcement").GetString() == "blocked");
    }

    [Fact]
    public async Task Show_RendersTheRiskReport_AndJsonParses()
    {
        var key = await server.CreateClientAsync("cli-show");
        Assert.Equal(HttpStatusCode.OK, await server.InferAsync(key));

        var table = await server.ShieldAsync("clients", "show", "cli-show");
        var json = await server.ShieldAsync("clients", "show", "cli-show", "--json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("cli-show", table.Out, StringComparison.Ordinal);
        Assert.Contains("standard", table.Out, StringComparison.Ordinal);
        Assert.Contains("Enforcement", table.Out, StringComparison.Ordinal);
        Assert.Contains("daily quota", table.Out, StringComparison.Ordinal);
        Assert.Contains("total requests", table.Out, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Out);
        Assert.Equal("cli-show", document.RootElement.GetProperty("clientId").GetString());
        Assert.Equal("ok", document.RootElement.GetProperty("enforcement").GetProperty("state").GetString());
        if (document.RootElement.TryGetProperty("timeline", out var timeline) && timeline.ValueKind == JsonValueKind.Object)
        {
            Assert.Contains("Timeline", table.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Block_RefusesInference403_Unblock_ServesAgain()
    {
        var key = await server.CreateClientAsync("cli-block");
        Assert.Equal(HttpStatusCode.OK, await server.InferAsync(key));

        var blocked = await server.ShieldAsync("clients", "block", "cli-block", "--reason", "cli test: suspected extraction", "--minutes", "30");
        Assert.True(blocked.ExitCode == 0, blocked.ToString());
        Assert.Contains("blocked until", blocked.Out, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, await server.InferAsync(key));

        var shown = await server.ShieldAsync("clients", "show", "cli-block");
        Assert.Contains("blocked", shown.Out, StringComparison.Ordinal);
        Assert.Contains("cli test: suspected extraction", shown.Out, StringComparison.Ordinal);

        var unblocked = await server.ShieldAsync("clients", "unblock", "cli-block", "--reason", "cli test: false positive");
        Assert.True(unblocked.ExitCode == 0, unblocked.ToString());
        Assert.Contains("ok again", unblocked.Out, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await server.InferAsync(key));
    }

    [Fact]
    public async Task Block_WithoutMinutes_BlocksUntilUnblocked_JsonAnswer()
    {
        await server.CreateClientAsync("cli-block-json");

        var blocked = await server.ShieldAsync("clients", "block", "cli-block-json", "--reason", "indefinite", "--json");

        Assert.True(blocked.ExitCode == 0, blocked.ToString());
        using var document = JsonDocument.Parse(blocked.Out);
        Assert.Equal("blocked", document.RootElement.GetProperty("enforcement").GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("enforcement").GetProperty("until").ValueKind);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }

    private static int Occurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
