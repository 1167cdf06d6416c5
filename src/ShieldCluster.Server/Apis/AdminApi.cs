using System.Text.Json;
using ShieldCluster.Contracts;
using ShieldCluster.Grains;
using ShieldCluster.Grains.Audit;
using ShieldCluster.Grains.Options;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Identity;
using ShieldCluster.Server.Serving;
using Microsoft.Extensions.Options;

namespace ShieldCluster.Server.Apis;

/// <summary>The security team's and operators' API; every route needs an admin key.</summary>
public static class AdminApi
{
    /// <summary>Maps the <c>/admin</c> routes.</summary>
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin");
        admin.MapPost("/clients", CreateClientAsync);
        admin.MapGet("/clients", ListClientsAsync);
        admin.MapGet("/clients/{id}", GetClientAsync);
        admin.MapPost("/clients/{id}/block", BlockClientAsync);
        admin.MapPost("/clients/{id}/unblock", UnblockClientAsync);
        admin.MapPost("/clients/{id}/rotate-key", RotateKeyAsync);
        admin.MapDelete("/clients/{id}", DeleteClientAsync);
        admin.MapGet("/events", ListEventsAsync);
        return app;
    }

    /// <summary>Creates a client; its key is answered once.</summary>
    public static async Task<IResult> CreateClientAsync(HttpContext context, AdminAuthenticator admins,
        IGrainFactory grains, IOptionsMonitor<IdentityOptions> identity, ModelRepository models,
        [FromKeyedServices(ShieldTime.Key)] TimeProvider time)
    {
        var admin = await admins.AuthorizeAsync(context, changesState: true);
        var request = await ReadBodyAsync<CreateClientRequest>(context, "{\"clientId\", \"plan\", \"models\"?}");

        if (!ClientIds.IsValid(request.ClientId))
        {
            throw ApiException.BadRequest("clientId must match ^[a-z0-9][a-z0-9-]{0,63}$");
        }

        var plan = request.Plan ?? IdentityOptions.DefaultPlan;
        if (!identity.CurrentValue.Plans.ContainsKey(plan))
        {
            throw ApiException.BadRequest($"unknown plan '{plan}'");
        }

        var unknown = request.Models?.FirstOrDefault(m => models.Find(m) is null);
        if (unknown is not null)
        {
            throw ApiException.BadRequest($"unknown model '{unknown}'");
        }

        var profile = new ClientProfile(plan, request.Models is { Count: > 0 } list ? [.. list] : null, ClientSource.AdminApi, time.GetUtcNow());
        var key = ApiKeys.Generate();
        if (!await grains.GetGrain<IClientGrain>(request.ClientId!).RegisterAsync(profile, ApiKeys.Hash(key), admin))
        {
            throw new ApiException(StatusCodes.Status409Conflict, $"client '{request.ClientId}' already exists");
        }

        await BindNewKeyAsync(grains, key, request.ClientId!);

        return TypedResults.Created($"/admin/clients/{request.ClientId}", new { clientId = request.ClientId, apiKey = key });
    }

    /// <summary>Reads a small JSON body after authorisation, so an unauthorised caller never learns about body rules.</summary>
    private static async Task<T> ReadBodyAsync<T>(HttpContext context, string shape)
        where T : class
    {
        try
        {
            return await context.Request.ReadFromJsonAsync<T>(context.RequestAborted)
                ?? throw ApiException.BadRequest($"expected a JSON body {shape}");
        }
        catch (JsonException ex)
        {
            throw ApiException.BadRequest($"expected a JSON body {shape}: {ex.Message}");
        }
        catch (InvalidOperationException)
        {
            throw new ApiException(StatusCodes.Status415UnsupportedMediaType, $"expected Content-Type application/json with a body {shape}");
        }
    }

    /// <summary>A client's plan and usage.</summary>
    public static async Task<IResult> GetClientAsync(HttpContext context, string id, AdminAuthenticator admins, IGrainFactory grains)
    {
        await admins.AuthorizeAsync(context, changesState: false);
        var report = ClientIds.IsValid(id) ? await grains.GetGrain<IClientGrain>(id).GetReportAsync() : null;
        if (report is null)
        {
            throw ApiException.NotFound($"client '{id}' not found");
        }

        return TypedResults.Ok(new
        {
            clientId = report.ClientId,
            plan = report.Profile.Plan,
            models = report.Profile.Models,
            source = report.Profile.Source.ToString(),
            limits = report.Limits,
            usage = report.Usage,
            risk = report.Risk.Score,
            enforcement = new { state = Name(report.Risk.Enforcement), until = report.Risk.BlockedUntil },
            detectors = report.Risk.Detectors.Select(d => new { name = d.Detector, score = d.Score, monitorOnly = d.MonitorOnly, evidence = d.Evidence }),
            events = report.Risk.Events.Select(Describe),
            historyItems = report.HistoryItems,
            lastSeen = report.LastSeen,
            timeline = new
            {
                minutes = (report.Timeline ?? []).Select(t => new { at = t.At, requests = t.Requests, items = t.Items }),
                risk = report.Risk.Events.Select(e => new { at = e.At, risk = e.Risk, state = Name(e.To) }),
            },
        });
    }

    /// <summary>The riskiest clients first, from the risk index (no client grain is activated).</summary>
    public static async Task<IResult> ListClientsAsync(HttpContext context, AdminAuthenticator admins, IGrainFactory grains, string? sort, int? top)
    {
        await admins.AuthorizeAsync(context, changesState: false);
        if (sort is not null && sort != "risk")
        {
            throw ApiException.BadRequest($"sort '{sort}' is not supported; use sort=risk");
        }

        var count = top ?? 10;
        if (count is < 1 or > 1000)
        {
            throw ApiException.BadRequest("top must be 1 to 1000");
        }

        var entries = await grains.GetGrain<IRiskIndexGrain>(0).TopAsync(count);
        return TypedResults.Ok(new
        {
            clients = entries.Select(e => new { clientId = e.ClientId, risk = e.Risk, enforcement = Name(e.Enforcement), updatedAt = e.UpdatedAt }),
        });
    }

    /// <summary>Blocks a client, for some minutes or until unblocked; durable before it answers.</summary>
    public static async Task<IResult> BlockClientAsync(HttpContext context, string id, AdminAuthenticator admins, IGrainFactory grains,
        [FromKeyedServices(ShieldTime.Key)] TimeProvider time, AdmissionLeases leases)
    {
        var admin = await admins.AuthorizeAsync(context, changesState: true);
        var request = await ReadBodyAsync<BlockRequest>(context, "{\"reason\", \"minutes\"?}");
        var reason = RequireReason(request.Reason);
        if (request.Minutes is < 1 or > 5_256_000)
        {
            throw ApiException.BadRequest("minutes must be 1 to 5256000 (ten years); leave it out to block until unblocked");
        }

        DateTimeOffset? until = request.Minutes is { } minutes ? time.GetUtcNow().AddMinutes(minutes) : null;
        if (!ClientIds.IsValid(id) || !await grains.GetGrain<IClientGrain>(id).BlockAsync(reason, until, admin))
        {
            throw ApiException.NotFound($"client '{id}' not found");
        }

        // This silo's lease ends now; another silo's within its lease time (README, "Admission leases").
        leases.Revoke(id);

        return TypedResults.Ok(new { clientId = id, enforcement = new { state = Name(EnforcementState.Blocked), until } });
    }

    /// <summary>Unblocks a client: enforcement ok, risk 0, evidence kept; durable before it answers.</summary>
    public static async Task<IResult> UnblockClientAsync(HttpContext context, string id, AdminAuthenticator admins, IGrainFactory grains)
    {
        var admin = await admins.AuthorizeAsync(context, changesState: true);
        var request = await ReadBodyAsync<UnblockRequest>(context, "{\"reason\"}");
        var reason = RequireReason(request.Reason);
        if (!ClientIds.IsValid(id) || !await grains.GetGrain<IClientGrain>(id).UnblockAsync(reason, admin))
        {
            throw ApiException.NotFound($"client '{id}' not found");
        }

        return TypedResults.Ok(new { clientId = id, enforcement = new { state = Name(EnforcementState.Ok) } });
    }

    /// <summary>
    /// Issues a new key for a client created at run time (answered once); the old key keeps
    /// working for <c>graceMinutes</c> (default 0: it stops at once, on every silo).
    /// </summary>
    public static async Task<IResult> RotateKeyAsync(HttpContext context, string id, AdminAuthenticator admins, IGrainFactory grains,
        [FromKeyedServices(ShieldTime.Key)] TimeProvider time, AdmissionLeases leases)
    {
        var admin = await admins.AuthorizeAsync(context, changesState: true);
        var request = context.Request.ContentLength is 0 || (context.Request.ContentLength is null && !context.Request.Headers.ContainsKey("Transfer-Encoding"))
            ? new RotateKeyRequest(null)
            : await ReadBodyAsync<RotateKeyRequest>(context, "{\"graceMinutes\"?}");
        if (request.GraceMinutes is < 0 or > 43_200)
        {
            throw ApiException.BadRequest("graceMinutes must be 0 to 43200 (30 days)");
        }

        var client = await ExistingRunTimeClientAsync(grains, id, "rotate its key");
        var key = ApiKeys.Generate();
        var validUntil = time.GetUtcNow().AddMinutes(request.GraceMinutes ?? 0);
        await BindNewKeyAsync(grains, key, id);
        if (!await client.RotateKeyAsync(ApiKeys.Hash(key), validUntil, admin))
        {
            throw ApiException.NotFound($"client '{id}' not found");
        }

        leases.Revoke(id);

        return TypedResults.Ok(new { clientId = id, apiKey = key, oldKeyValidUntil = validUntil });
    }

    /// <summary>Deletes a client created at run time, with its keys, usage and history; audited.</summary>
    public static async Task<IResult> DeleteClientAsync(HttpContext context, string id, AdminAuthenticator admins, IGrainFactory grains, AdmissionLeases leases)
    {
        var admin = await admins.AuthorizeAsync(context, changesState: true);
        var client = await ExistingRunTimeClientAsync(grains, id, "delete it");
        // The lease's buffered records die with the client: nothing is delivered to it after its deletion.
        leases.Revoke(id, deliver: false);
        if (!await client.DeleteAsync(admin))
        {
            throw ApiException.NotFound($"client '{id}' not found");
        }

        return TypedResults.NoContent();
    }

    /// <summary>The audit trail, oldest first: <c>since</c> (ISO-8601), <c>client</c>, <c>limit</c> (default 100, at most 1,000).</summary>
    public static async Task<IResult> ListEventsAsync(HttpContext context, AdminAuthenticator admins, IAuditLog audit)
    {
        await admins.AuthorizeAsync(context, changesState: false);
        var query = context.Request.Query;
        DateTimeOffset? since = null;
        if (query["since"].ToString() is { Length: > 0 } sinceText)
        {
            since = DateTimeOffset.TryParse(sinceText, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : throw ApiException.BadRequest($"since '{sinceText}' is not an ISO-8601 time");
        }

        var client = query["client"].ToString() is { Length: > 0 } c ? c : null;
        if (client is not null && !ClientIds.IsValid(client))
        {
            throw ApiException.BadRequest("client must match ^[a-z0-9][a-z0-9-]{0,63}$");
        }

        var limit = 100;
        if (query["limit"].ToString() is { Length: > 0 } limitText && (!int.TryParse(limitText, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            throw ApiException.BadRequest("limit must be 1 to 1000");
        }

        var entries = await audit.ReadAsync(new AuditQuery(since, client, limit), context.RequestAborted);
        return TypedResults.Ok(new { events = entries.Select(e => Describe(e.Event, e.Id)) });
    }

    private static async Task<IClientGrain> ExistingRunTimeClientAsync(IGrainFactory grains, string id, string action)
    {
        var client = ClientIds.IsValid(id) ? grains.GetGrain<IClientGrain>(id) : null;
        var profile = client is null ? null : await client.GetProfileAsync();
        if (profile is null)
        {
            throw ApiException.NotFound($"client '{id}' not found");
        }

        return profile.Source == ClientSource.Configuration
            ? throw new ApiException(StatusCodes.Status409Conflict, $"client '{id}' comes from configuration: change its configuration to {action}")
            : client!;
    }

    private static async Task BindNewKeyAsync(IGrainFactory grains, string key, string clientId)
    {
        if (!await grains.GetGrain<IApiKeyGrain>(ApiKeys.Hash(key)).BindAsync(clientId))
        {
            throw new InvalidOperationException("a freshly generated API key is already bound");
        }
    }

    private static string RequireReason(string? reason) =>
        string.IsNullOrWhiteSpace(reason) ? throw ApiException.BadRequest("a non-empty 'reason' is required")
        : reason.Length > 1000 ? throw ApiException.BadRequest("'reason' is longer than 1000 characters")
        : reason;

    private static string Name(EnforcementState state) => state.ToString().ToLowerInvariant();

    private static object Describe(SecurityEvent e) => Describe(e, null);

    private static object Describe(SecurityEvent e, string? id) => new
    {
        id,
        at = e.At,
        clientId = e.ClientId,
        kind = e.Kind,
        from = Name(e.From),
        to = Name(e.To),
        risk = e.Risk,
        actor = e.Actor,
        reason = e.Reason,
    };
}
