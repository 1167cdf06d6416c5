using System.Globalization;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using HttpOptions = ShieldCluster.Server.Options.HttpOptions;

namespace ShieldCluster.Server.Grpc;

/// <summary>Composition of the gRPC endpoint: its options, the service and the Kestrel endpoints.</summary>
public static class GrpcHostingExtensions
{
    /// <summary>
    /// Binds <see cref="GrpcOptions"/> (validated at start), registers the gRPC service with the
    /// HTTP body limit as its message limit, and has Kestrel listen on <paramref name="httpUrls"/>
    /// (HTTP/1.1) and on the gRPC port of each of their hosts (cleartext HTTP/2).
    /// </summary>
    public static WebApplicationBuilder AddShieldGrpc(this WebApplicationBuilder builder, string httpUrls)
    {
        var services = builder.Services;
        services.AddSingleton(new HttpUrls(httpUrls));
        services.AddOptions<GrpcOptions>().BindConfiguration(GrpcOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GrpcOptions>, GrpcOptionsValidator>();
        services.AddGrpc(o => o.Interceptors.Add<GrpcErrorInterceptor>());
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<HttpOptions>>((grpc, http) =>
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, http.Value.MaxRequestBodyBytes));
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<GrpcOptions>>((kestrel, grpc) =>
        {
            var port = grpc.Value.Port;
            kestrel.ConfigureEndpointDefaults(listen =>
            {
                if (listen.IPEndPoint?.Port == port)
                {
                    listen.Protocols = HttpProtocols.Http2;
                }
            });
        });

        // The URLs are composed as the host is built; a port that does not parse falls back to the
        // default here and stops the start in validation, naming the key.
        var configured = builder.Configuration[$"{GrpcOptions.Section}:{nameof(GrpcOptions.Port)}"];
        var grpcPort = int.TryParse(configured, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is > 0 and <= 65535
            ? parsed
            : GrpcOptions.DefaultPort;
        builder.WebHost.UseUrls(GrpcEndpoints.Compose(httpUrls, grpcPort));
        return builder;
    }

    /// <summary>Maps <c>inference.GRPCInferenceService</c>.</summary>
    public static WebApplication MapShieldGrpc(this WebApplication app)
    {
        app.MapGrpcService<InferenceGrpcService>();
        return app;
    }
}
