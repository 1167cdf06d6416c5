using Grpc.Core;
using ShieldCluster.Server.Grpc.Protocol;

namespace ShieldCluster.Server.Grpc;

/// <summary>
/// The bind method of <see cref="InferenceGrpcService"/> (named by its <see cref="BindServiceMethodAttribute"/>):
/// the generated binding of <c>inference.GRPCInferenceService</c> less ModelInfer, which
/// <see cref="ModelInferMethod"/> binds with its own request reader.
/// </summary>
public static class InferenceServiceBinding
{
    /// <summary>Binds every generated method but ModelInfer.</summary>
    /// <param name="binder">The binder Grpc.AspNetCore passes.</param>
    /// <param name="service">The service; null while the endpoints are discovered.</param>
    public static void BindService(ServiceBinderBase binder, GRPCInferenceService.GRPCInferenceServiceBase? service) =>
        GRPCInferenceService.BindService(new WithoutModelInfer(binder), service);

    private sealed class WithoutModelInfer(ServiceBinderBase inner) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            if (method.ServiceName != ModelInferMethod.Method.ServiceName || method.Name != ModelInferMethod.Name)
            {
                inner.AddMethod(method, handler);
            }
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(method, handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(method, handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(method, handler);
    }
}
