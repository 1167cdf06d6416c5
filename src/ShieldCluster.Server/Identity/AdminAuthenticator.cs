using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using ShieldCluster.Grains.Options;
using ShieldCluster.Server.Http;

namespace ShieldCluster.Server.Identity;

/// <summary>
/// Authorises admin routes. With no admin configured every admin route answers 404: there is never
/// a default admin key. A missing or unknown key is 401; a client's key, or a viewer on a route that
/// changes something, is 403.
/// </summary>
public sealed class AdminAuthenticator
{
    private readonly ClientAuthenticator _clients;
    private FrozenDictionary<string, (string Name, AdminRole Role)> _admins;

    /// <summary>Creates the authenticator over the configured admins.</summary>
    public AdminAuthenticator(IOptionsMonitor<IdentityOptions> identity, ClientAuthenticator clients)
    {
        _clients = clients;
        _admins = Index(identity.CurrentValue);
        identity.OnChange(options => _admins = Index(options));
    }

    /// <summary>Whether any admin is configured.</summary>
    public bool Enabled => _admins.Count > 0;

    /// <summary>The admin's name, when the request may use a route; throws the refusal otherwise.</summary>
    public async ValueTask<string> AuthorizeAsync(HttpContext context, bool changesState)
    {
        if (!Enabled)
        {
            throw ApiException.NotFound($"no route for {context.Request.Method} {context.Request.Path}");
        }

        var key = ApiKeys.FromRequest(context.Request)
            ?? throw new ApiException(StatusCodes.Status401Unauthorized, "missing admin key: send 'Authorization: Bearer <key>'");
        if (_admins.TryGetValue(ApiKeys.Hash(key), out var admin))
        {
            if (changesState && admin.Role != AdminRole.Security)
            {
                throw new ApiException(StatusCodes.Status403Forbidden, $"admin '{admin.Name}' has the viewer role; this route needs security");
            }

            return admin.Name;
        }

        if (await _clients.ResolveAsync(key) is not null)
        {
            throw new ApiException(StatusCodes.Status403Forbidden, "client keys cannot use the admin API");
        }

        throw new ApiException(StatusCodes.Status401Unauthorized, "unknown admin key");
    }

    private static FrozenDictionary<string, (string, AdminRole)> Index(IdentityOptions options) =>
        options.Admins.ToFrozenDictionary(a => a.Value.ApiKeySha256.ToLowerInvariant(), a => (a.Key, a.Value.ParsedRole ?? AdminRole.Viewer), StringComparer.Ordinal);
}
