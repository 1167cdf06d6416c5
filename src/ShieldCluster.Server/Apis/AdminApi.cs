using System.Text.Json;
using ShieldCluster.Contracts;
using ShieldCluster.Grains;
using ShieldCluster.Grains.Options;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Identity;
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
        admin.MapGet("/clients/{id}", GetClientAsync);
        return app;
    }

    /// <summary>Creates a client; its key is answered once.</summary>
    public static async Task<IResult> CreateClientAsync(HttpContext context, AdminAuthenticator admins,
        IGrainFactory grains, IOptionsMonitor<IdentityOptions> identity, ModelRepository models,
        [FromKeyedServices(ShieldTime.Key)] TimeProvider time)
    {
        await admins.AuthorizeAsync(context, changesState: true);
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
        if (!await grains.GetGrain<IClientGrain>(request.ClientId!).RegisterAsync(profile))
        {
            throw new ApiException(StatusCodes.Status409Conflict, $"client '{request.ClientId}' already exists");
        }

        var key = ApiKeys.Generate();
        if (!await grains.GetGrain<IApiKeyGrain>(ApiKeys.Hash(key)).BindAsync(request.ClientId!))
        {
            throw new InvalidOperationException("a freshly generated API key is already bound");
        }

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
            historyItems = report.HistoryItems,
            lastSeen = report.LastSeen,
        });
    }
}

/// <summary>The body of <c>POST /admin/clients</c>.</summary>
public sealed record CreateClientRequest(string? ClientId, string? Plan, List<string>? Models);
