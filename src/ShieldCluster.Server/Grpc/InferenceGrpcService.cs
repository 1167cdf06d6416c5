using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Grpc.Core;
using ShieldCluster.Contracts;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Server.Hosting;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Identity;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Grpc;

/// <summary>
/// The Open Inference Protocol's <c>inference.GRPCInferenceService</c>. Health and server metadata
/// need no key; model readiness, metadata and inference need the client key as
/// <c>authorization: Bearer &lt;key&gt;</c> metadata and run through the same
/// <see cref="ClientAuthenticator"/> and <see cref="InferencePipeline"/> as HTTP (admission,
/// history, detectors, input filter, output hardening, misinformation). Refusals are
/// <see cref="ApiException"/>s, mapped to status codes by <see cref="GrpcErrorInterceptor"/>.
/// ModelInfer is bound apart from the generated code (<see cref="InferenceServiceBinding"/>,
/// <see cref="ModelInferMethod"/>) so that raw tensors are read straight into float arrays.
/// </summary>
[BindServiceMethod(typeof(InferenceServiceBinding), nameof(InferenceServiceBinding.BindService))]
public sealed class InferenceGrpcService(
    ClientAuthenticator clients,
    InferencePipeline pipeline,
    ServerReadiness readiness,
    ModelRepository models) : GRPCInferenceService.GRPCInferenceServiceBase
{
    private static readonly string Version =
        typeof(InferenceGrpcService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <inheritdoc />
    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    /// <inheritdoc />
    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = readiness.IsReady && models.Models.Count > 0 });

    /// <inheritdoc />
    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = "shieldcluster", Version = Version, Extensions = { ShieldCluster.Server.Apis.HealthApi.Extensions } });

    /// <inheritdoc />
    public override async Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        await FindAsync(context, request.Name, request.Version);
        return new ModelReadyResponse { Ready = true };
    }

    /// <inheritdoc />
    public override async Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var served = await FindAsync(context, request.Name, request.Version);
        var batched = served.MaxBatchSize > 0;
        var response = new ModelMetadataResponse { Name = served.Model, Platform = "onnxruntime_onnx" };
        response.Versions.Add(served.Version);
        response.Inputs.Add(Describe(served.Input.Name, served.Input.Datatype, served.Input.ProtocolShape(batched)));
        response.Outputs.Add(served.Outputs.Select(o => Describe(o.Name, o.Datatype, o.ProtocolShape(batched))));
        return response;
    }

    /// <summary>
    /// ModelInfer, bound by <see cref="ModelInferMethod"/>: the request as <see cref="ModelInferReader"/>
    /// read it, its raw inputs already in rented float arrays. Those go back to
    /// <see cref="TensorBuffers"/> after a successful run (<see cref="InferRequest.ReleaseTensors"/>)
    /// and on every refusal before the pipeline has them (authentication, model, message checks);
    /// once the pipeline has them, a failed request leaves them to the garbage collector, as
    /// <see cref="TensorBuffers"/> requires.
    /// </summary>
    public async Task<ModelInferResponse> ModelInferAsync(ModelInferMessage message, ServerCallContext context)
    {
        var started = Stopwatch.GetTimestamp();
        ModelVersion? served = null;
        var status = StatusCodes.Status500InternalServerError;
        var handedOver = false;
        try
        {
            var request = message.Fields;
            var client = await clients.AuthenticateAsync(context.GetHttpContext());
            served = pipeline.FindModel(client, request.ModelName, NullIfEmpty(request.ModelVersion));
            var neutral = GrpcTensors.ToRequest(request, message.RawInputContents, out var raw);
            handedOver = true;
            var result = await pipeline.InferAsync(client, served, neutral, static (admission, call) => AddRateLimitTrailers(call, admission), context);
            neutral.ReleaseTensors();
            status = StatusCodes.Status200OK;
            return GrpcTensors.ToResponse(result, raw);
        }
        catch (ApiException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        catch (Exception ex) when (ErrorHandlingMiddleware.IsUnavailable(ex))
        {
            status = StatusCodes.Status503ServiceUnavailable;
            throw;
        }
        finally
        {
            if (!handedOver)
            {
                message.ReturnTensors();
            }

            pipeline.Measure(served, status, started);
        }
    }

    private async Task<ModelVersion> FindAsync(ServerCallContext context, string model, string version)
    {
        var client = await clients.AuthenticateAsync(context.GetHttpContext());
        return pipeline.FindModel(client, model, NullIfEmpty(version));
    }

    /// <summary>The rate-limit state, as HTTP's <c>RateLimit-*</c> headers carry it, in the trailers (sent with answers and refusals alike).</summary>
    private static void AddRateLimitTrailers(ServerCallContext context, Admission admission)
    {
        context.ResponseTrailers.Add("ratelimit-limit", admission.Limit.ToString(CultureInfo.InvariantCulture));
        context.ResponseTrailers.Add("ratelimit-remaining", admission.Remaining.ToString(CultureInfo.InvariantCulture));
        context.ResponseTrailers.Add("ratelimit-reset", admission.ResetSeconds.ToString(CultureInfo.InvariantCulture));
    }

    private static ModelMetadataResponse.Types.TensorMetadata Describe(string name, string datatype, long[] shape)
    {
        var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = name, Datatype = datatype };
        tensor.Shape.Add(shape);
        return tensor;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
