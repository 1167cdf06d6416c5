using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ShieldCluster.Console.Tests;

/// <summary>
/// The client page's charts and escaping, with the report answered by the browser's request
/// interception: a risk timeline and queries per minute in both shapes the page accepts, and
/// markup in every string the API could carry.
/// </summary>
[Collection(ConsoleServerCollection.Name)]
public class ConsoleChartTests(ConsoleServer fixture)
{
    static ConsoleChartTests() => SetDefaultExpectTimeout(20_000);

    private const string Markup = "<img src=x onerror=\"window.pwned=1\" id=evil><script>window.pwned=2</script>";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ClientPage_Timeline_DrawsRiskAndQueryCharts_ShowsMarkupAsText(bool riskTimeline)
    {
        var now = DateTimeOffset.UtcNow;
        var minutes = Enumerable.Range(0, 3).Select(i => new { at = now.AddMinutes(i - 3), requests = 5 + i, items = 40 + (8 * i) }).ToArray();
        var events = new[]
        {
            new { at = now.AddMinutes(-2.5), kind = "degrade", from = "ok", to = "degraded", risk = 0.5, actor = "detectors", reason = Markup },
            new { at = now.AddMinutes(-1), kind = "block", from = "degraded", to = "blocked", risk = 0.95, actor = "detectors", reason = "blacklight" },
        };
        object timeline = riskTimeline
            ? new
            {
                minutes,
                risk = new[]
                {
                    new { at = now.AddMinutes(-3), risk = 0.1, state = "ok" },
                    new { at = now.AddMinutes(-2.5), risk = 0.5, state = "degraded" },
                    new { at = now.AddMinutes(-1), risk = 0.95, state = "blocked" },
                },
            }
            : minutes;
        var report = JsonSerializer.Serialize(new
        {
            clientId = "charted",
            plan = "gold",
            usage = new { totalRequests = 18, totalItems = 144, itemsToday = 144, refusedRequests = 2 },
            risk = 0.95,
            enforcement = new { state = "blocked", until = (DateTimeOffset?)null },
            detectors = new[] { new { name = "blacklight", score = 0.95, monitorOnly = false, evidence = Markup } },
            events,
            historyItems = 144,
            lastSeen = now,
            timeline,
        });

        await using var console = await fixture.OpenConsoleAsync();
        var page = console.Page;
        await page.RouteAsync("**/admin/clients/charted", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "application/json",
            Body = report,
        }));
        await console.SignInAsync(ConsoleServer.SecurityKey);
        await console.OpenClientAsync("charted");

        await Expect(page.Locator("#client-summary")).ToContainTextAsync("gold");
        await Expect(page.Locator("#client-state")).ToHaveTextAsync("blocked");
        await Expect(page.Locator("svg.chart rect.bar")).ToHaveCountAsync(3);
        await Expect(page.Locator("svg.chart path.risk-line")).ToHaveCountAsync(1);
        // From the timeline: three recorded points; from the events: their two risks.
        await Expect(page.Locator("svg.chart circle.dot")).ToHaveCountAsync(riskTimeline ? 3 : 2);
        await Expect(page.Locator("svg.chart rect.band.state-blocked")).ToHaveCountAsync(1);
        await Expect(page.Locator(".chart-box figcaption").First).ToContainTextAsync(riskTimeline ? "Risk over time" : "from the security events");

        await Expect(page.Locator("#detectors-table")).ToContainTextAsync(Markup);
        await Expect(page.Locator("#client-events-table")).ToContainTextAsync(Markup);
        Assert.Equal(0, await page.Locator("#evil").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => window.pwned === undefined"));
        Assert.Empty(console.Problems);
    }
}
