using System.Net;
using System.Text.RegularExpressions;
using ShieldCluster.Testing;

namespace ShieldCluster.Console.Tests;

/// <summary>The console's files over plain HTTP: what is served, and with which headers.</summary>
[Collection(ConsoleServerCollection.Name)]
public partial class ConsoleHttpTests(ConsoleServer fixture)
{
    [Theory]
    [InlineData("/console", "text/html")]
    [InlineData("/console/", "text/html")]
    [InlineData("/console/app.js", "text/javascript")]
    [InlineData("/console/console.css", "text/css")]
    public async Task ConsoleFile_ServedWithSecurityHeaders(string path, string contentType)
    {
        using var response = await fixture.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);

        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Page_HasNoInlineScriptOrStyle_AndFetchesNothingFromOutside()
    {
        var html = await fixture.Http.GetStringAsync("/console");
        foreach (Match script in ScriptTag().Matches(html))
        {
            Assert.Matches("src=\"/console/[a-z]+\\.js\"", script.Value);
        }

        Assert.DoesNotMatch("<style|\\sstyle=|\\son[a-z]+=", html);
        var assets = Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "src", "ShieldCluster.Server", "Console", "assets"));
        Assert.NotEmpty(assets);
        foreach (var asset in assets)
        {
            var text = await File.ReadAllTextAsync(asset);
            Assert.DoesNotMatch("https?://(?!www\\.w3\\.org/2000/svg)", text);
            Assert.DoesNotMatch("\\.(inner|outer)HTML|insertAdjacentHTML|document\\.write|eval\\(|new Function", text);
            Assert.DoesNotContain("localStorage.setItem", text, StringComparison.Ordinal);
            Assert.DoesNotContain("document.cookie", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ConsoleFile_RevalidatedByETag()
    {
        using var first = await fixture.Http.GetAsync("/console/app.js");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/app.js");
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await fixture.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Theory]
    [InlineData("/console/nope.js")]
    [InlineData("/console/..%2Fappsettings.json")]
    [InlineData("/console/ShieldCluster.Server.dll")]
    public async Task UnknownConsoleFile_Answers404(string path)
    {
        using var response = await fixture.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [GeneratedRegex("<script[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();
}
