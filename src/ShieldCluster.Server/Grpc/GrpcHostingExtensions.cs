using System.Globalization;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using HttpOptions = ShieldCluster.Server.Options.HttpOptions;

namespace ShieldCluster.Server.Grpc;

/// <summary>Composition of the gRPC endpoint: its options, the service and the Kestrel endpoints.</summary>
public static class GrpcHostingExtensions
{
    /// <summary>HTTP/2 receive window per connection: room for several large tensors in flight.</summary>
    public const int GrpcConnectionWindow = 32 * 1024 * 1024;

    /// <summary>Largest HTTP/2 frame the server accepts (the protocol's default is 16 KiB).</summary>
    public const int GrpcMaxFrame = 1024 * 1024;

    /// <summary>HTTP/2 receive window per stream: a 224x224x3 FP32 tensor and its framing in one go.</summary>
    public const int GrpcStreamWindow = 4 * 1024 * 1024;

    /// <summary>
    /// Binds <see cref="GrpcOptions"/> (validated at start), registers the gRPC service with the
    /// HTTP body limit as its message limit (ModelInfer's own reader included: the limit applies
    /// before any message is read), and has Kestrel listen on <paramref name="httpUrls"/>
    /// (HTTP/1.1) and on the gRPC port of each of their hosts (cleartext HTTP/2).
    /// </summary>
    public static WebApplicationBuilder AddShieldGrpc(this WebApplicationBuilder builder, string httpUrls)
    {
        var services = builder.Services;
        services.AddSingleton(new HttpUrls(httpUrls));
        services.AddOptions<GrpcOptions>().BindConfiguration(GrpcOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GrpcOptions>, GrpcOptionsValidator>();
        services.AddGrpc(o => o.Interceptors.Add<GrpcErrorInterceptor>());
        // ModelInfer reads raw tensors straight into float arrays: bound here, not by the generated code.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<InferenceGrpcService>, ModelInferMethod>());
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<HttpOptions>>((grpc, http) =>
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, http.Value.MaxRequestBodyBytes));
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<GrpcOptions>>((kestrel, grpc) =>
        {
            // HTTP/2 flow control: Kestrel's default windows (1 MiB per connection, 768 KiB per
            // stream) let a connection carry barely one 602 KB image tensor before the client waits a
            // round trip for a window update; a channel multiplexing a few such requests then runs at
            // a fraction of the link. The windows only allow sending: what a stream may hold stays
            // bounded by the message limit.
            kestrel.Limits.Http2.InitialConnectionWindowSize = GrpcConnectionWindow;
            kestrel.Limits.Http2.InitialStreamWindowSize = GrpcStreamWindow;
            // Frames of up to 1 MiB instead of 16 KiB: one tensor in one or a few DATA frames, not 37.
            kestrel.Limits.Http2.MaxFrameSize = GrpcMaxFrame;
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
