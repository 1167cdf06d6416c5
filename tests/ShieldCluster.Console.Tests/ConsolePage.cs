using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace ShieldCluster.Console.Tests;

/// <summary>A browser tab on the console, collecting what would betray a broken page: script errors, CSP refusals, dialogs.</summary>
public sealed class ConsolePage : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _problems = new();

    public ConsolePage(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.PageError += (_, error) => _problems.Enqueue($"page error: {error}");
        // Chromium logs every non-2xx fetch as "Failed to load resource"; the console shows those
        // errors itself. Anything else at error level (a CSP refusal, a failed module) is a defect.
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                _problems.Enqueue($"console error: {message.Text}");
            }
        };
        page.Dialog += (_, dialog) => _problems.Enqueue($"dialog: {dialog.Message}");
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Script errors, CSP refusals and dialogs seen so far.</summary>
    public IReadOnlyCollection<string> Problems => [.. _problems];

    /// <summary>Signs in with <paramref name="key"/> through the form.</summary>
    public async Task SignInAsync(string key)
    {
        await Page.Locator("#admin-key").FillAsync(key);
        await Page.Locator("#sign-in-button").ClickAsync();
    }

    /// <summary>Opens a client's page through the "Open a client" form of the riskiest-clients view.</summary>
    public async Task OpenClientAsync(string clientId)
    {
        await Page.Locator("#open-client-id").FillAsync(clientId);
        await Page.Locator("#open-client button[type=submit]").ClickAsync();
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
