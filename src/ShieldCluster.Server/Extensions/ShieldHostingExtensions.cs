using System.Net;
using Orleans.Configuration;
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
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IdentityOptions>, IdentityOptionsValidator>();
        services.AddSingleton<IValidateOptions<ShieldOptions>, ShieldOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddKeyedSingleton(ShieldTime.Key, (sp, _) => sp.GetRequiredService<TimeProvider>());
        return builder;
    }

    /// <summary>
    /// The co-hosted Orleans silo. Embedded default: localhost clustering and in-memory storage on
    /// the configured silo and gateway ports.
    /// </summary>
    public static IHostApplicationBuilder AddShieldOrleans(this IHostApplicationBuilder builder)
    {
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering();
            silo.AddMemoryGrainStorage(ShieldStorage.Name);

            // Ports and ids come from validated options, resolved when the silo starts (after
            // every configuration source, test hosts' included, is in place).
            var services = silo.Services;
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
        services.AddSingleton<AdminAuthenticator>();
        services.AddSingleton<InferencePipeline>();
        services.AddSingleton<QueryFeatures>();
        services.AddSingleton<CrossClientIndex>();
        services.AddSingleton<ServerReadiness>();
        services.TryAddSingleton(new DemoKeyOutput(Console.Out));
        services.AddHostedService<StartupTasks>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>()
            .Configure<IOptions<HttpOptions>>((kestrel, http) => kestrel.Limits.MaxRequestBodySize = http.Value.MaxRequestBodyBytes + 1);
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
