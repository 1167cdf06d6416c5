using System.Security.Cryptography;
using System.Text;

namespace ShieldCluster.Server.Identity;

/// <summary>API keys: generated at random with the <c>shk_</c> prefix, stored only as SHA-256.</summary>
public static class ApiKeys
{
    /// <summary>The prefix that lets secret scanners find leaked keys.</summary>
    public const string Prefix = "shk_";

    /// <summary>A new random key: the prefix and 32 random bytes, base64url.</summary>
    public static string Generate() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>The key's SHA-256 as lower-case hex, the only form in which keys are stored.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>
    /// The bearer token of a request, or null when the <c>Authorization</c> header is missing, not
    /// <c>Bearer</c>, or implausibly long.
    /// </summary>
    public static string? FromRequest(HttpRequest request, bool allowBasic = false)
    {
        var header = request.Headers.Authorization.ToString();
        const string basic = "Basic ";
        if (allowBasic && header.Length > basic.Length && header.Length <= 2048 && header.StartsWith(basic, StringComparison.OrdinalIgnoreCase))
        {
            // Browsers' own sign-in (the dashboard): any user name, the key as the password.
            Span<byte> decoded = stackalloc byte[1536];
            return Convert.TryFromBase64String(header[basic.Length..].Trim(), decoded, out var length)
                && System.Text.Encoding.UTF8.GetString(decoded[..length]) is var pair && pair.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0
                && pair[(colon + 1)..] is { Length: > 0 } key
                ? key
                : null;
        }

        const string scheme = "Bearer ";
        if (header.Length <= scheme.Length || header.Length > 1024 || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header[scheme.Length..].Trim();
        return token.Length == 0 ? null : token;
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
