using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ShieldCluster.Console.Tests;

/// <summary>The console in a real headless Chromium against the real server process.</summary>
[Collection(ConsoleServerCollection.Name)]
public class ConsoleBrowserTests(ConsoleServer fixture)
{
    static ConsoleBrowserTests() => SetDefaultExpectTimeout(20_000);

    [Fact]
    public async Task BlockThroughPage_ClientBlockedInApi_AndItsKeyRefused()
    {
        const string clientId = "console-target";
        var clientKey = await fixture.CreateClientAsync(clientId);
        Assert.Equal(HttpStatusCode.OK, await fixture.InferAsync(clientKey));

        await using var console = await fixture.OpenConsoleAsync();
        var page = console.Page;
        await console.SignInAsync(ConsoleServer.SecurityKey);
        await Expect(page.Locator("#clients-table")).ToBeVisibleAsync();
        await Expect(page.Locator("#clients-status")).ToContainTextAsync("refreshed");

        // The key lives in this tab's sessionStorage only: not in a cookie, the URL or localStorage.
        Assert.Equal(ConsoleServer.SecurityKey, await page.EvaluateAsync<string?>("() => sessionStorage.getItem('shieldcluster.adminKey')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
        Assert.Empty((await console.Context.CookiesAsync()));
        Assert.DoesNotContain(ConsoleServer.SecurityKey, page.Url, StringComparison.Ordinal);

        await console.OpenClientAsync(clientId);
        await Expect(page.Locator("#client-id")).ToHaveTextAsync(clientId);
        await Expect(page.Locator("#client-summary")).ToContainTextAsync("standard");
        await Expect(page.Locator("#client-state")).ToHaveTextAsync("ok");

        // Markup in the reason comes back from the API as text, never as elements.
        const string reason = "console test <img src=x id=injected> & \"quotes\"";
        await page.Locator("#block-reason").FillAsync(reason);
        await page.Locator("#block-button").ClickAsync();
        await Expect(page.Locator("#action-result")).ToHaveTextAsync("Blocked until unblocked.");
        await Expect(page.Locator("#client-state")).ToHaveTextAsync("blocked");
        await Expect(page.Locator("#client-events-table")).ToContainTextAsync(reason);
        Assert.Equal(0, await page.Locator("#injected").CountAsync());

        var report = await fixture.ClientReportAsync(clientId);
        Assert.Equal("blocked", report.GetProperty("enforcement").GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, await fixture.InferAsync(clientKey));

        // The page's charts are drawn: risk over time from the recorded events at least.
        await Expect(page.Locator("svg.chart").First).ToBeVisibleAsync();
        Assert.Empty(console.Problems);
    }

    [Fact]
    public async Task SignIn_WrongKey_ShowsApiErrorAndNoData()
    {
        await using var console = await fixture.OpenConsoleAsync();
        var page = console.Page;
        await console.SignInAsync("not-an-admin-key");

        await Expect(page.Locator("#sign-in-error")).ToBeVisibleAsync();
        await Expect(page.Locator("#sign-in-error")).ToContainTextAsync("401: unknown admin key");
        await Expect(page.Locator("#view")).ToBeHiddenAsync();
        Assert.Equal(0, await page.Locator("#clients-table").CountAsync());
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('shieldcluster.adminKey')"));
        Assert.Empty(console.Problems);
    }

    [Fact]
    public async Task SignIn_ClientKey_ShowsApiRefusal()
    {
        var clientKey = await fixture.CreateClientAsync("console-client-key");
        await using var console = await fixture.OpenConsoleAsync();
        await console.SignInAsync(clientKey);

        await Expect(console.Page.Locator("#sign-in-error")).ToContainTextAsync("403: client keys cannot use the admin API");
        await Expect(console.Page.Locator("#view")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Viewer_SeesClient_BlockShowsApi403_ClientStaysOk()
    {
        const string clientId = "console-viewed";
        await fixture.CreateClientAsync(clientId);

        await using var console = await fixture.OpenConsoleAsync();
        var page = console.Page;
        await console.SignInAsync(ConsoleServer.ViewerKey);
        await console.OpenClientAsync(clientId);
        await Expect(page.Locator("#client-summary")).ToContainTextAsync("standard");

        await page.Locator("#block-reason").FillAsync("a viewer tries");
        await page.Locator("#block-button").ClickAsync();
        await Expect(page.Locator("#action-result")).ToContainTextAsync("403: admin 'watch' has the viewer role");

        var report = await fixture.ClientReportAsync(clientId);
        Assert.Equal("ok", report.GetProperty("enforcement").GetProperty("state").GetString());
        Assert.Empty(console.Problems);
    }

    [Fact]
    public async Task SignedIn_ReloadKeepsSession_SignOutForgetsKey_EventsViewAnswers()
    {
        await using var console = await fixture.OpenConsoleAsync();
        var page = console.Page;
        await console.SignInAsync(ConsoleServer.SecurityKey);
        await Expect(page.Locator("#clients-table")).ToBeVisibleAsync();

        await page.ReloadAsync();
        await Expect(page.Locator("#clients-table")).ToBeVisibleAsync();

        // The events view shows the audit trail, or says quietly that this server has none.
        await page.Locator("#nav a[href='#/events']").ClickAsync();
        await Expect(page.Locator("#events-status")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("^status( note)?$"));
        await Expect(page.Locator("#events-status")).ToContainTextAsync(new System.Text.RegularExpressions.Regex("not available|refreshed"));

        await page.Locator("#sign-out").ClickAsync();
        await Expect(page.Locator("#sign-in")).ToBeVisibleAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('shieldcluster.adminKey')"));
        Assert.Empty(console.Problems);
    }

    [Fact]
    public async Task UnknownClient_ShowsApi404()
    {
        await using var console = await fixture.OpenConsoleAsync();
        var page = console.Page;
        await console.SignInAsync(ConsoleServer.SecurityKey);
        await console.OpenClientAsync("no-such-client");
        await Expect(page.Locator("#client-status")).ToContainTextAsync("404: client 'no-such-client' not found");
        Assert.Empty(console.Problems);
    }
}
