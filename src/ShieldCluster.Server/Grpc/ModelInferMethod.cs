using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using ShieldCluster.Server.Grpc.Protocol;

namespace ShieldCluster.Server.Grpc;

/// <summary>
/// Binds <c>inference.GRPCInferenceService/ModelInfer</c> to
/// <see cref="InferenceGrpcService.ModelInferAsync"/> with <see cref="ModelInferReader"/> as its
/// request deserializer, in place of the generated binding (which <see cref="InferenceServiceBinding"/>
/// leaves out). The wire is unchanged: the same service, method and messages; the response is
/// written as the generated code writes it.
/// </summary>
public sealed class ModelInferMethod : IServiceMethodProvider<InferenceGrpcService>
{
    /// <summary>The method's name in the service.</summary>
    public const string Name = nameof(GRPCInferenceService.GRPCInferenceServiceBase.ModelInfer);

    /// <summary>The RPC: generated-code names and response marshalling, the request read by <see cref="ModelInferReader"/>.</summary>
    public static readonly Method<ModelInferMessage, ModelInferResponse> Method = new(
        MethodType.Unary,
        GRPCInferenceService.Descriptor.FullName,
        Name,
        Marshallers.Create<ModelInferMessage>(
            (_, _) => throw new NotSupportedException("ModelInferMessage is read by the server only; clients send ModelInferRequest"),
            context => ModelInferReader.Read(context.PayloadAsReadOnlySequence())),
        Marshallers.Create<ModelInferResponse>(
            (response, context) =>
            {
                context.SetPayloadLength(response.CalculateSize());
                response.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            context => ModelInferResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    /// <inheritdoc />
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<InferenceGrpcService> context)
    {
        // The metadata the generated binding gives each method: the service's attributes, then POST only.
        var metadata = new List<object>(typeof(InferenceGrpcService).GetCustomAttributes(inherit: true))
        {
            new HttpMethodMetadata(["POST"], acceptCorsPreflight: true),
        };
        context.AddUnaryMethod(Method, metadata, static (service, request, call) => service.ModelInferAsync(request, call));
    }
}
