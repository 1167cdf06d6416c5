using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using ShieldCluster.Grains.Options;
using ShieldCluster.Server.Http;

namespace ShieldCluster.Server.Identity;

/// <summary>
/// Authorises admin routes. With no admin configured every admin route answers 404: there is never
/// a default admin key. A missing or unknown key is 401; a client's key, or a viewer on a route that
/// changes something, is 403. The key's SHA-256 is compared with every admin's in constant time;
/// failures count against the source address (<see cref="AuthFailureLimiter"/>).
/// </summary>
public sealed class AdminAuthenticator
{
    private readonly ClientAuthenticator _clients;
    private readonly AuthFailureLimiter _failures;
    private (byte[] Hash, string Name, AdminRole Role)[] _admins;

    /// <summary>Creates the authenticator over the configured admins.</summary>
    public AdminAuthenticator(IOptionsMonitor<IdentityOptions> identity, ClientAuthenticator clients, AuthFailureLimiter failures)
    {
        _clients = clients;
        _failures = failures;
        _admins = Index(identity.CurrentValue);
        identity.OnChange(options => _admins = Index(options));
    }

    /// <summary>Whether any admin is configured.</summary>
    public bool Enabled => _admins.Length > 0;

    /// <summary>The admin's name, when the request may use a route; throws the refusal otherwise.</summary>
    public async ValueTask<string> AuthorizeAsync(HttpContext context, bool changesState)
    {
        if (!Enabled)
        {
            throw ApiException.NotFound($"no route for {context.Request.Method} {context.Request.Path}");
        }

        _failures.ThrowIfThrottled(context);
        var key = ApiKeys.FromRequest(context.Request, allowBasic: true);
        if (key is null)
        {
            _failures.RecordFailure(context, "admin");
            throw new ApiException(StatusCodes.Status401Unauthorized, "missing admin key: send 'Authorization: Bearer <key>'");
        }

        if (Find(Convert.FromHexString(ApiKeys.Hash(key))) is { } admin)
        {
            if (changesState && admin.Role != AdminRole.Security)
            {
                throw new ApiException(StatusCodes.Status403Forbidden, $"admin '{admin.Name}' has the viewer role; this route needs security");
            }

            return admin.Name;
        }

        _failures.RecordFailure(context, "admin");
        if (await _clients.ResolveAsync(key) is not null)
        {
            throw new ApiException(StatusCodes.Status403Forbidden, "client keys cannot use the admin API");
        }

        throw new ApiException(StatusCodes.Status401Unauthorized, "unknown admin key");
    }

    /// <summary>The admin whose key hash is <paramref name="hash"/>, comparing with every admin in constant time.</summary>
    private (string Name, AdminRole Role)? Find(byte[] hash)
    {
        (string, AdminRole)? found = null;
        foreach (var (candidate, name, role) in _admins)
        {
            if (CryptographicOperations.FixedTimeEquals(candidate, hash))
            {
                found = (name, role);
            }
        }

        return found;
    }

    private static (byte[], string, AdminRole)[] Index(IdentityOptions options) =>
        [.. options.Admins.Select(a => (Convert.FromHexString(a.Value.ApiKeySha256), a.Key, a.Value.ParsedRole ?? AdminRole.Viewer))];
}
