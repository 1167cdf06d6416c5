using System.Net;
using Orleans.Configuration;
using Orleans.Serialization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ShieldCluster.Grains;
using ShieldCluster.Grains.Options;
using ShieldCluster.Inference;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Server.Hosting;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Identity;
using ShieldCluster.Server.Options;
using ShieldCluster.Server.Serving;
using ShieldCluster.Server.Storage;
using ShieldCluster.Server.Alerts;
using ShieldCluster.Server.Audit;
using ShieldCluster.Server.Telemetry;
using ShieldCluster.Grains.Audit;
using Orleans.Storage;
using Polly;
using Orleans.Dashboard;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using StackExchange.Redis;
using HttpOptions = ShieldCluster.Server.Options.HttpOptions;

namespace ShieldCluster.Server.Extensions;

/// <summary>Composition of the server: options, the silo, inference and the HTTP pipeline.</summary>
public static class ShieldHostingExtensions
{
    /// <summary>Binds and validates every options class; a bad value stops start-up naming its key.</summary>
    public static IHostApplicationBuilder AddShieldOptions(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ShieldOptions>().BindConfiguration(ShieldOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HttpOptions>().BindConfiguration(HttpOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ProtectionOptions>().BindConfiguration(ProtectionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<IdentityOptions>().BindConfiguration(IdentityOptions.Section)
            .PostConfigure(o => o.Plans.TryAdd(IdentityOptions.DefaultPlan, new PlanOptions()))
            .ValidateOnStart();
        services.AddOptions<DetectionOptions>().BindConfiguration(DetectionOptionsValidator.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DetectionOptions>, DetectionOptionsValidator>();
        services.AddOptions<SecretOptions>().BindConfiguration(SecretOptions.Section)
            .Validate(o => o.Salt is null || o.Salt.Length >= 16, "Shield:Detection:Salt must be at least 16 characters")
            .Validate<IOptions<ShieldOptions>>(
                (o, shield) => shield.Value.Redis is null || o.Salt is not null,
                "Shield:Detection:Salt is required with Shield:Redis: every silo of a cluster must fingerprint with the same secret salt")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IdentityOptions>, IdentityOptionsValidator>();
        services.AddSingleton<IValidateOptions<ShieldOptions>, ShieldOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddKeyedSingleton(ShieldTime.Key, (sp, _) => sp.GetRequiredService<TimeProvider>());
        return builder;
    }

    /// <summary>
    /// The co-hosted Orleans silo. Embedded default: localhost clustering and in-memory storage.
    /// With <c>Shield:Redis</c>: Redis membership and grain storage (behind
    /// <see cref="ResilientGrainStorage"/>), the feature history in a store whose entries expire after
    /// <c>Shield:Protection:HistoryRetention</c>, and failure detection tuned for a few seconds.
    /// </summary>
    public static IHostApplicationBuilder AddShieldOrleans(this IHostApplicationBuilder builder)
    {
        // The mode is chosen from configuration as the host is built; ports and ids are resolved
        // later from validated options (after every configuration source, test hosts' included).
        var redis = ConfiguredRedis(builder.Configuration);
        var kubernetes = builder.Configuration.GetValue<bool?>($"{ShieldOptions.Section}:{nameof(ShieldOptions.Kubernetes)}") == true;
        builder.UseOrleans(silo =>
        {
            if (string.IsNullOrWhiteSpace(redis))
            {
                silo.UseLocalhostClustering();
                silo.Services.AddKeyedSingleton<IGrainStorage>(ShieldStorage.Inner, (sp, _) => new InProcessGrainStorage(sp.GetRequiredService<DeepCopier>()));
                silo.Services.AddKeyedSingleton<IGrainStorage>(ShieldStorage.HistoryInner, (sp, _) => new InProcessGrainStorage(sp.GetRequiredService<Serializer>()));
                silo.UseInMemoryReminderService();
            }
            else
            {
                UseRedis(silo, redis, kubernetes);
            }

            if (TracesEnabled(builder.Configuration))
            {
                silo.AddActivityPropagation();
            }

            if (DashboardEnabled(builder.Configuration))
            {
                silo.AddDashboard();
                if (!builder.Configuration.GetValue<bool>($"{ShieldOptions.Section}:{nameof(ShieldOptions.DashboardProfiling)}"))
                {
                    RemoveGrainProfiler(silo.Services);
                }
            }

            var services = silo.Services;

            // State in Orleans' binary format in both modes: version tolerant through the [Id]s of
            // the state types (fields added later load as defaults), a fraction of the size and the
            // cost of JSON with type names.
            services.AddSingleton<IGrainStorageSerializer, OrleansGrainStorageSerializer>();
            AddResilientStorage(services, ShieldStorage.Name, ShieldStorage.Inner);
            AddResilientStorage(services, ShieldStorage.History, ShieldStorage.HistoryInner);
            services.AddOptions<EndpointOptions>().Configure<IOptions<ShieldOptions>>((endpoints, shield) =>
            {
                endpoints.SiloPort = shield.Value.SiloPort;
                endpoints.GatewayPort = shield.Value.GatewayPort;
            });
            services.AddOptions<DevelopmentClusterMembershipOptions>().Configure<IOptions<ShieldOptions>>((membership, shield) =>
                membership.PrimarySiloEndpoint = new IPEndPoint(IPAddress.Loopback, shield.Value.SiloPort));
            services.AddOptions<ClusterOptions>().Configure<IOptions<ShieldOptions>>((cluster, shield) =>
            {
                cluster.ClusterId = shield.Value.ClusterId;
                cluster.ServiceId = shield.Value.ServiceId;
            });
        });
        return builder;
    }

    private static void UseRedis(ISiloBuilder silo, string connectionString, bool kubernetes)
    {
        ConfigurationOptions Redis() => RedisConnection.Options(connectionString);

        silo.UseRedisClustering(o => o.ConfigurationOptions = Redis());
        // Clearing a state deletes its key: a deleted client's state and history, and history
        // segments below a client's window, leave nothing behind (by default Orleans writes an empty
        // state in their place, which for the client state never expires).
        silo.AddRedisGrainStorage(ShieldStorage.Inner, o =>
        {
            o.ConfigurationOptions = Redis();
            o.DeleteStateOnClear = true;
        });
        silo.UseRedisReminderService(o => o.ConfigurationOptions = Redis());
        silo.Services.AddRedisGrainStorage(ShieldStorage.HistoryInner, options => options
            .Configure<IOptions<ProtectionOptions>>((o, protection) =>
            {
                o.ConfigurationOptions = Redis();
                o.EntryExpiry = protection.Value.HistoryRetention;
                o.DeleteStateOnClear = true;
            }));

        // A killed silo is declared dead after about two missed 2-second probes (the defaults take
        // 3 x 5 s), which bounds the window in which its grains cannot be reached. A silo starting
        // after the whole cluster died ignores entries not refreshed for 2 x 5 s (default 2 x 30 s),
        // so a full restart is ready in seconds rather than a minute.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(2);
            o.NumMissedProbesLimit = 2;
            o.NumProbedSilos = 2;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(5);
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
            o.NumMissedTableIAmAliveLimit = 2;
        });
        if (kubernetes)
        {
            silo.UseKubernetesHosting();
        }
    }

    private static void AddResilientStorage(IServiceCollection services, string name, string inner)
    {
        services.TryAddSingleton(sp =>
        {
            var logger = sp.GetRequiredService<ILogger<ResilientGrainStorage>>();
            return ResilientGrainStorage.CreatePipeline(TimeProvider.System, state => StorageLog.Circuit(logger, state));
        });
        services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) =>
            new ResilientGrainStorage(sp.GetRequiredKeyedService<IGrainStorage>(inner), sp.GetRequiredService<ResiliencePipeline>()));
    }

    /// <summary>
    /// The audit trail, the alert outbox and webhook, and the metrics: Redis streams with
    /// <c>Shield:Redis</c>, this process's memory in the embedded default.
    /// </summary>
    public static IHostApplicationBuilder AddShieldOperations(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section)
            .Validate(o => o.WebhookUrl is null || (o.WebhookUrl.IsAbsoluteUri && o.WebhookUrl.Scheme is "http" or "https"), "Shield:Alerts:WebhookUrl must be an absolute http or https URL")
            .Validate(o => o.WebhookUrl is null || o.Secret is { Length: >= 32 }, "Shield:Alerts:Secret (32+ characters) is required with Shield:Alerts:WebhookUrl: alerts are signed")
            .Validate(o => o.Timeout > TimeSpan.Zero && o.RetryAfter > TimeSpan.Zero, "Shield:Alerts:Timeout and Shield:Alerts:RetryAfter must be positive")
            .ValidateOnStart();
        services.AddSingleton<ShieldMetrics>();
        services.AddHostedService<ClusterGauges>();
        if (TracesEnabled(builder.Configuration))
        {
            // Spans of the HTTP request and of every grain call it makes, one trace (Orleans
            // propagates the context); exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
            // Headers are not recorded, so no key reaches a span.
            var tracing = services.AddOpenTelemetry()
                .ConfigureResource(r => r.AddService("shieldcluster"))
                .WithTracing(t => t
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/v2/health", StringComparison.Ordinal))
                    .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"));
            if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            {
                tracing.WithTracing(t => t.AddOtlpExporter());
            }
        }

        services.AddHttpClient(WebhookDispatcher.HttpClientName);
        services.AddHostedService<WebhookDispatcher>();

        var redis = ConfiguredRedis(builder.Configuration);
        if (string.IsNullOrWhiteSpace(redis))
        {
            services.AddSingleton(sp => new MemoryAlertOutbox(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<AlertOptions>>().Value.RetryAfter));
            services.AddSingleton<IAlertOutbox>(sp => sp.GetRequiredService<MemoryAlertOutbox>());
            services.AddSingleton<IAuditLog>(sp =>
            {
                var audit = sp.GetRequiredService<IOptions<AuditOptions>>().Value;
                return new MeteredAuditLog(
                    new MemoryAuditLog(audit.MemoryCapacity, audit.Retention, sp.GetRequiredKeyedService<TimeProvider>(ShieldTime.Key), sp.GetRequiredService<MemoryAlertOutbox>().Add),
                    sp.GetRequiredService<ShieldMetrics>());
            });
        }
        else
        {
            services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(RedisConnection.Options(redis)));
            services.AddSingleton<RedisAuditLog>();
            services.AddSingleton<IAuditLog>(sp => new MeteredAuditLog(sp.GetRequiredService<RedisAuditLog>(), sp.GetRequiredService<ShieldMetrics>()));
            services.AddSingleton<IAlertOutbox>(sp => new RedisAlertOutbox(
                sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RedisAuditLog>(), RedisAlertOutbox.ConsumerName(),
                sp.GetRequiredService<IOptions<AlertOptions>>().Value.RetryAfter));
        }

        return builder;
    }

    /// <summary><c>Shield:Redis</c> as configured: it chooses the mode while the host is built.</summary>
    private static string? ConfiguredRedis(IConfiguration configuration) =>
        configuration[$"{ShieldOptions.Section}:{nameof(ShieldOptions.Redis)}"];

    /// <summary>
    /// Takes the dashboard's grain profiler out of the grain call path (its filter wraps every grain
    /// call in one more asynchronous step, even while no one views the dashboard).
    /// </summary>
    private static void RemoveGrainProfiler(IServiceCollection services)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IIncomingGrainCallFilter) && IsGrainProfiler(services[i].ImplementationType))
            {
                services.RemoveAt(i);
            }
        }
    }

    /// <summary>Whether <paramref name="type"/> is the Orleans Dashboard's grain profiler filter (an internal type of its assembly).</summary>
    internal static bool IsGrainProfiler(Type? type) =>
        type is { Name: "GrainProfilerFilter" } && type.Assembly == typeof(DashboardOptions).Assembly;

    private static bool DashboardEnabled(IConfiguration configuration) =>
        configuration.GetValue<bool?>($"{ShieldOptions.Section}:{nameof(ShieldOptions.Dashboard)}") ?? true;

    /// <summary>
    /// The Orleans Dashboard at <c>/dashboard</c>, behind the admin key: 404 with no admin
    /// configured, 401 with a Basic challenge (so a browser asks for the key) otherwise.
    /// </summary>
    public static WebApplication MapShieldDashboard(this WebApplication app)
    {
        if (!DashboardEnabled(app.Configuration))
        {
            return app;
        }

        app.UseWhen(c => c.Request.Path.StartsWithSegments("/dashboard", StringComparison.Ordinal), branch => branch.Use(async (context, next) =>
        {
            try
            {
                await context.RequestServices.GetRequiredService<AdminAuthenticator>().AuthorizeAsync(context, changesState: false);
            }
            catch (ApiException ex) when (ex.StatusCode == StatusCodes.Status401Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"ShieldCluster dashboard\", charset=\"UTF-8\"";
                throw;
            }

            await next(context);
        }));
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        return app;
    }

    /// <summary>Traces are on with <c>Shield:Telemetry:Traces=true</c>, or when an OTLP endpoint is configured.</summary>
    private static bool TracesEnabled(IConfiguration configuration) =>
        configuration.GetValue<bool?>("Shield:Telemetry:Traces") ?? !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>The model repository and ONNX Runtime, loaded before the server reports ready.</summary>
    public static IHostApplicationBuilder AddShieldInference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ExecutionProviderSelector>();
        builder.Services.AddSingleton<ModelRepository>();
        return builder;
    }

    /// <summary>Identity, the inference pipeline, start-up tasks and HTTP limits.</summary>
    public static IHostApplicationBuilder AddShieldHttp(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<ClientAuthenticator>();
        services.AddSingleton<AuthFailureLimiter>();
        services.AddSingleton<AdminAuthenticator>();
        services.AddSingleton<InferencePipeline>();
        services.AddSingleton<QueryFeatures>();
        services.AddSingleton<CrossClientIndex>();
        services.AddSingleton<AdmissionLeases>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, FrontEndShutdown>();
        services.AddSingleton<ServerReadiness>();
        services.AddSingleton<AccessLog>();
        services.TryAddSingleton(new DemoKeyOutput(Console.Out));
        services.AddHostedService<StartupTasks>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>()
            .Configure<IOptions<HttpOptions>>((kestrel, http) => kestrel.Limits.MaxRequestBodySize = http.Value.MaxRequestBodyBytes + 1);
        services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        return builder;
    }

    /// <summary>Request ids, error mapping and JSON bodies for routing errors.</summary>
    public static WebApplication UseShieldHttp(this WebApplication app)
    {
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseStatusCodePages(ErrorHandlingMiddleware.WriteStatusCodeBodyAsync);
        app.UseMiddleware<ErrorHandlingMiddleware>();
        return app;
    }
}
