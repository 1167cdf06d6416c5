using System.Net;
using System.Text.Json;

namespace ShieldCluster.Cli.Tests;

/// <summary><c>shield clients rotate</c> and <c>shield clients delete</c> against a real server.</summary>
[Collection(ServerCollection.Name)]
public class KeyLifecycleTests(ServerFixture server)
{
    [Fact]
    public async Task Rotate_PrintsTheNewKeyOnce_NewKeyServes_OldKeyStops()
    {
        var oldKey = await server.CreateClientAsync("cli-rotate");

        var result = await server.ShieldAsync("clients", "rotate", "cli-rotate");

        Assert.True(result.ExitCode == 0, result.ToString());
        var newKey = result.Out.Trim();
        Assert.StartsWith("shk_", newKey, StringComparison.Ordinal);
        Assert.NotEqual(oldKey, newKey);
        Assert.Single(result.All.Split(newKey)[1..]);
        Assert.Contains("no longer works", result.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await server.InferAsync(newKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await server.InferAsync(oldKey));
    }

    [Fact]
    public async Task Rotate_WithGrace_OldKeyStillServes_JsonHasTheShape()
    {
        var oldKey = await server.CreateClientAsync("cli-rotate-grace");

        var result = await server.ShieldAsync("clients", "rotate", "cli-rotate-grace", "--grace-minutes", "10", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Out);
        Assert.Equal("cli-rotate-grace", document.RootElement.GetProperty("clientId").GetString());
        var newKey = document.RootElement.GetProperty("apiKey").GetString()!;
        Assert.True(document.RootElement.GetProperty("oldKeyValidUntil").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(9));
        Assert.Equal(HttpStatusCode.OK, await server.InferAsync(newKey));
        Assert.Equal(HttpStatusCode.OK, await server.InferAsync(oldKey));
    }

    [Fact]
    public async Task Rotate_UnknownClient_Exits3()
    {
        var result = await server.ShieldAsync("clients", "rotate", "no-such-client");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("not found", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_WithoutYes_NonInteractive_Exits2AndKeepsTheClient()
    {
        var key = await server.CreateClientAsync("cli-delete-refused");

        var result = await server.ShieldAsync("clients", "delete", "cli-delete-refused");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--yes", result.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await server.InferAsync(key));
    }

    [Fact]
    public async Task Delete_Interactive_DeclinedExits1_AcceptedDeletes()
    {
        var key = await server.CreateClientAsync("cli-delete-asked");

        var declined = await server.ShieldAsync(server.Environment, ["clients", "delete", "cli-delete-asked"], interactive: true, input: "n\n");
        Assert.True(declined.ExitCode == 1, declined.ToString());
        Assert.Contains("[y/N]", declined.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await server.ShieldAsync("clients", "show", "cli-delete-asked")).ExitCode);

        var accepted = await server.ShieldAsync(server.Environment, ["clients", "delete", "cli-delete-asked"], interactive: true, input: "y\n");
        Assert.True(accepted.ExitCode == 0, accepted.ToString());
        Assert.Equal(3, (await server.ShieldAsync("clients", "show", "cli-delete-asked")).ExitCode);
        Assert.NotEqual(HttpStatusCode.OK, await server.InferAsync(key));
    }

    [Fact]
    public async Task Delete_Yes_Json_DeletesAndPrintsJson_ThenUnknownExits3()
    {
        var key = await server.CreateClientAsync("cli-delete-yes");

        var result = await server.ShieldAsync("clients", "delete", "cli-delete-yes", "--yes", "--json");
        var again = await server.ShieldAsync("clients", "delete", "cli-delete-yes", "--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Out);
        Assert.Equal("cli-delete-yes", document.RootElement.GetProperty("clientId").GetString());
        Assert.Equal(3, (await server.ShieldAsync("clients", "show", "cli-delete-yes")).ExitCode);
        Assert.True(again.ExitCode == 3, again.ToString());
        Assert.NotEqual(HttpStatusCode.OK, await server.InferAsync(key));
    }

    [Fact]
    public async Task Delete_ByViewer_Exits4()
    {
        await server.CreateClientAsync("cli-delete-viewer");
        var viewer = new Dictionary<string, string>(server.Environment) { ["SHIELD_ADMIN_KEY"] = server.ViewerKey };

        var result = await server.ShieldAsync(viewer, ["clients", "delete", "cli-delete-viewer", "--yes"]);

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Equal(0, (await server.ShieldAsync("clients", "show", "cli-delete-viewer")).ExitCode);
    }
}
