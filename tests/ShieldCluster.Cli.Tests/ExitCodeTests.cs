using ShieldCluster.Testing;

namespace ShieldCluster.Cli.Tests;

/// <summary>The exit codes scripts rely on, each provoked for real; and the admin key never shows.</summary>
[Collection(ServerCollection.Name)]
public class ExitCodeTests(ServerFixture server)
{
    [Fact]
    public async Task Show_UnknownClient_Exits3WithTheServersMessage()
    {
        var result = await server.ShieldAsync("clients", "show", "no-such-client");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal("", result.Out);
        Assert.Equal("shield: client 'no-such-client' not found (HTTP 404)", result.Error.Trim());
    }

    [Fact]
    public async Task Block_UnknownClient_Exits3()
    {
        var result = await server.ShieldAsync("clients", "block", "no-such-client", "--reason", "test");

        Assert.True(result.ExitCode == 3, result.ToString());
    }

    [Fact]
    public async Task WrongAdminKey_Exits4_AndNeverEchoesTheKey()
    {
        const string wrong = "definitely-not-an-admin-key-5f3a";
        var environment = new Dictionary<string, string>(server.Environment) { ["SHIELD_ADMIN_KEY"] = wrong };

        var result = await server.ShieldAsync(environment, ["clients", "top"]);
        var option = await server.ShieldAsync(environment, ["clients", "show", "cli-any", "--admin-key", wrong + "-2", "--json"]);

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("unknown admin key", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, result.All, StringComparison.Ordinal);
        Assert.True(option.ExitCode == 4, option.ToString());
        Assert.Equal("", option.Out);
        Assert.DoesNotContain(wrong, option.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Viewer_CanRead_ButBlockingExits4()
    {
        await server.CreateClientAsync("cli-viewer-target");
        var viewer = new Dictionary<string, string>(server.Environment) { ["SHIELD_ADMIN_KEY"] = server.ViewerKey };

        var shown = await server.ShieldAsync(viewer, ["clients", "show", "cli-viewer-target"]);
        var blocked = await server.ShieldAsync(viewer, ["clients", "block", "cli-viewer-target", "--reason", "viewer tries"]);

        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.True(blocked.ExitCode == 4, blocked.ToString());
        Assert.Contains("viewer", blocked.Error, StringComparison.Ordinal);
        Assert.Contains("403", blocked.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Block_WithoutReason_Exits2AndSendsNothing()
    {
        var key = await server.CreateClientAsync("cli-no-reason");

        var result = await server.ShieldAsync("clients", "block", "cli-no-reason");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--reason is required", result.Error, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.OK, await server.InferAsync(key));
    }

    [Theory]
    [InlineData("clients", "top", "--top", "0")]
    [InlineData("clients", "top", "--top", "many")]
    [InlineData("clients", "show")]
    [InlineData("clients", "show", "x", "--no-such-option")]
    [InlineData("clients", "block", "x", "--reason", "r", "--minutes", "0")]
    [InlineData("clients", "rotate", "x", "--grace-minutes", "-1")]
    [InlineData("events", "tail", "--since", "yesterday")]
    [InlineData("events", "tail", "--limit", "0")]
    [InlineData("clients", "show", "x", "--url", "ftp://example")]
    public async Task BadArguments_Exit2(params string[] args)
    {
        var result = await server.ShieldAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task MissingAdminKey_Exits2()
    {
        var result = await server.ShieldAsync(new Dictionary<string, string> { ["SHIELD_URL"] = server.Server.BaseAddress.ToString() }, ["clients", "top"]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("SHIELD_ADMIN_KEY", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableUrl_Exits6()
    {
        var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";

        var result = await server.ShieldAsync("clients", "show", "anyone", "--url", url);
        var fromEnvironment = await server.ShieldAsync(new Dictionary<string, string>(server.Environment) { ["SHIELD_URL"] = url }, ["events", "tail"]);

        Assert.True(result.ExitCode == 6, result.ToString());
        Assert.Contains("cannot reach", result.Error, StringComparison.Ordinal);
        Assert.True(fromEnvironment.ExitCode == 6, fromEnvironment.ToString());
    }

    [Fact]
    public async Task OptionsOverrideTheEnvironment()
    {
        var result = await server.ShieldAsync(new Dictionary<string, string>(),
            ["clients", "top", "--url", server.Server.BaseAddress.ToString(), "--admin-key", server.SecurityKey, "--json"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var _ = System.Text.Json.JsonDocument.Parse(result.Out);
    }

    [Theory]
    [InlineData("clients", "show", "--help")]
    [InlineData("events", "tail", "--help")]
    [InlineData("clients", "--help")]
    public async Task Help_ListsTheExitCodes(params string[] args)
    {
        var result = await server.ShieldAsync(args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("EXIT CODES", result.All, StringComparison.Ordinal);
        Assert.Contains("server error (5xx) or unreachable", result.All, StringComparison.Ordinal);
    }
}
