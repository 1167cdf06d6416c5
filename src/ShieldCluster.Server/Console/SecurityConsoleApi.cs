using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Identity;

// The console lives in Console/ with its assets, but its endpoints sit in the Apis namespace: a
// ShieldCluster.Server.Console namespace would hide System.Console from the whole server.
namespace ShieldCluster.Server.Apis;

/// <summary>
/// The security console: a static page (HTML, CSS, ES modules embedded in this assembly) that asks
/// for an admin key, keeps it in the tab's sessionStorage only and calls the admin API with it.
/// The page holds no data itself: with no admin configured every console route answers 404, as
/// <c>/admin/*</c> does; otherwise the shell loads and the admin API decides what the key may see.
/// </summary>
public static class SecurityConsoleApi
{
    /// <summary>The console's Content-Security-Policy: its own files only, no inline script or style, no framing.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private const string ResourcePrefix = "ShieldCluster.Server.Console/";

    private static readonly FrozenDictionary<string, ConsoleAsset> Assets = LoadAssets();

    /// <summary>Maps <c>/console</c> (the page) and <c>/console/{file}</c> (its scripts and styles).</summary>
    public static IEndpointRouteBuilder MapSecurityConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/console", ServePage);
        app.MapGet("/console/{file}", ServeFile);
        return app;
    }

    /// <summary>The page: the console's HTML shell.</summary>
    public static FileContentHttpResult ServePage(HttpContext context, AdminAuthenticator admins) => Serve(context, admins, "index.html");

    /// <summary>One of the console's files, by name.</summary>
    public static FileContentHttpResult ServeFile(HttpContext context, AdminAuthenticator admins, string file) => Serve(context, admins, file);

    private static FileContentHttpResult Serve(HttpContext context, AdminAuthenticator admins, string name)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";

        if (!admins.Enabled || !Assets.TryGetValue(name, out var asset))
        {
            throw ApiException.NotFound($"no route for {context.Request.Method} {context.Request.Path}");
        }

        // Revalidated on every load (cheap: 304 by ETag), so an upgraded server never runs old scripts.
        headers.CacheControl = "no-cache";
        return TypedResults.Bytes(asset.Content, asset.ContentType, entityTag: asset.ETag);
    }

    private static FrozenDictionary<string, ConsoleAsset> LoadAssets()
    {
        var assembly = typeof(SecurityConsoleApi).Assembly;
        var assets = new Dictionary<string, ConsoleAsset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = resource[ResourcePrefix.Length..];
            var content = Read(assembly, resource);
            var etag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
            assets[name] = new ConsoleAsset(content, ContentTypeOf(name), etag);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded resource {resource} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    private sealed record ConsoleAsset(byte[] Content, string ContentType, EntityTagHeaderValue ETag);
}
