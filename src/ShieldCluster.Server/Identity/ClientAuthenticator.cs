using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Grains.Options;
using ShieldCluster.Server.Http;
using HttpOptions = ShieldCluster.Server.Options.HttpOptions;

namespace ShieldCluster.Server.Identity;

/// <summary>
/// Resolves API keys to clients. Keys from configuration resolve from memory; keys created at run
/// time resolve through their <see cref="IApiKeyGrain"/> and are cached on this silo for
/// <see cref="HttpOptions.KeyCacheDuration"/>. Only hashes are compared or stored.
/// </summary>
public sealed class ClientAuthenticator
{
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly IOptions<HttpOptions> _http;
    private readonly AuthFailureLimiter _failures;
    private readonly ConcurrentDictionary<string, (ClientIdentity Identity, long ExpiresAt)> _cache = new(StringComparer.Ordinal);
    private FrozenDictionary<string, ClientIdentity> _configured;

    /// <summary>Creates the authenticator over the configured clients.</summary>
    public ClientAuthenticator(IOptionsMonitor<IdentityOptions> identity, IGrainFactory grains, TimeProvider time, IOptions<HttpOptions> http, AuthFailureLimiter failures)
    {
        _failures = failures;
        _grains = grains;
        _time = time;
        _http = http;
        _configured = Index(identity.CurrentValue);
        identity.OnChange(options => _configured = Index(options));
    }

    /// <summary>The client the request's bearer key belongs to; 401 when there is none.</summary>
    public async ValueTask<ClientIdentity> AuthenticateAsync(HttpContext context)
    {
        _failures.ThrowIfThrottled(context);
        var key = ApiKeys.FromRequest(context.Request);
        var identity = key is null ? null : await ResolveAsync(key);
        if (identity is null)
        {
            _failures.RecordFailure(context, "client");
            throw new ApiException(StatusCodes.Status401Unauthorized, key is null ? "missing API key: send 'Authorization: Bearer <key>'" : "unknown API key");
        }

        context.Items[typeof(ClientIdentity)] = identity;
        return identity;
    }

    /// <summary>The client <paramref name="key"/> belongs to, or null.</summary>
    public async ValueTask<ClientIdentity?> ResolveAsync(string key)
    {
        var hash = ApiKeys.Hash(key);
        if (_configured.TryGetValue(hash, out var configured))
        {
            return configured;
        }

        var now = _time.GetTimestamp();
        if (_cache.TryGetValue(hash, out var cached) && cached.ExpiresAt > now)
        {
            return cached.Identity;
        }

        var clientId = await _grains.GetGrain<IApiKeyGrain>(hash).ResolveAsync();
        if (clientId is null)
        {
            return null;
        }

        var profile = await _grains.GetGrain<IClientGrain>(clientId).GetProfileAsync();
        if (profile is null)
        {
            return null;
        }

        // The client grain checks the key on every admission too, so a rotated-out key stops at once
        // on every silo, whatever this cache holds.
        var resolved = new ClientIdentity(clientId, profile.Models, hash);
        // Somewhere in the last quarter of the duration: keys first used together (a load test's, a
        // silo's first seconds) do not all expire, and cost their two grain calls, in the same moment.
        var ttl = (long)(_http.Value.KeyCacheDuration.TotalSeconds * _time.TimestampFrequency * (1 - (0.25 * Random.Shared.NextDouble())));
        _cache[hash] = (resolved, now + ttl);
        return resolved;
    }

    private static FrozenDictionary<string, ClientIdentity> Index(IdentityOptions options) =>
        options.Clients.ToFrozenDictionary(
            c => c.Value.ApiKeySha256.ToLowerInvariant(),
            c => new ClientIdentity(c.Key, c.Value.Models.Count == 0 ? null : c.Value.Models),
            StringComparer.Ordinal);
}
