using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Identity;
using ShieldCluster.Server.Serving;
using HttpOptions = ShieldCluster.Server.Options.HttpOptions;

namespace ShieldCluster.Server.Apis;

/// <summary>The Open Inference Protocol's model endpoints; every one needs a client key.</summary>
public static class ModelsApi
{
    /// <summary>Maps metadata, readiness and inference, with and without a version.</summary>
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/v2/models/{model}");
        models.MapGet("", GetMetadataAsync);
        models.MapGet("/versions/{version}", GetMetadataAsync);
        models.MapGet("/ready", GetReadyAsync);
        models.MapGet("/versions/{version}/ready", GetReadyAsync);
        models.MapPost("/infer", InferAsync);
        models.MapPost("/versions/{version}/infer", InferAsync);
        return app;
    }

    /// <summary>The model's metadata.</summary>
    public static async Task<IResult> GetMetadataAsync(HttpContext context, string model, string? version,
        ClientAuthenticator clients, InferencePipeline pipeline)
    {
        var served = await FindAsync(context, model, version, clients, pipeline);
        return TypedResults.Ok(Describe(served));
    }

    /// <summary>200 when the model version is loaded (it is, if it is found).</summary>
    public static async Task<IResult> GetReadyAsync(HttpContext context, string model, string? version,
        ClientAuthenticator clients, InferencePipeline pipeline)
    {
        var served = await FindAsync(context, model, version, clients, pipeline);
        return TypedResults.Ok(new { name = served.Model, version = served.Version, ready = true });
    }

    /// <summary>
    /// Runs an inference request: JSON, or Triton's binary tensor extension when the request carries
    /// <see cref="BinaryTensors.Header"/> (the answer is binary when an output asks for it).
    /// </summary>
    public static async Task<IResult> InferAsync(HttpContext context, string model, string? version,
        ClientAuthenticator clients, InferencePipeline pipeline, IOptions<HttpOptions> http)
    {
        var started = Stopwatch.GetTimestamp();
        ModelVersion? served = null;
        var status = StatusCodes.Status500InternalServerError;
        try
        {
            var client = await clients.AuthenticateAsync(context);
            served = pipeline.FindModel(client, model, version);
            var request = await InferRequestParser.ReadAsync(context.Request, http.Value.MaxRequestBodyBytes, context.RequestAborted);
            var result = await pipeline.InferAsync(client, served, request, static (admission, response) => ApplyRateLimitHeaders(response, admission), context.Response);
            request.ReleaseTensors();
            status = StatusCodes.Status200OK;
            return new InferResponse(result);
        }
        catch (ApiException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        catch (BadHttpRequestException ex)
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
            pipeline.Measure(served, status, started);
        }
    }

    private static void ApplyRateLimitHeaders(HttpResponse response, Admission admission)
    {
        response.Headers["RateLimit-Limit"] = admission.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers["RateLimit-Remaining"] = admission.Remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers["RateLimit-Reset"] = admission.ResetSeconds.ToString(CultureInfo.InvariantCulture);
    }

    private static async Task<ModelVersion> FindAsync(HttpContext context, string model, string? version,
        ClientAuthenticator clients, InferencePipeline pipeline)
    {
        var client = await clients.AuthenticateAsync(context);
        return pipeline.FindModel(client, model, version);
    }

    private static object Describe(ModelVersion model)
    {
        var batched = model.MaxBatchSize > 0;
        return new
        {
            name = model.Model,
            versions = new[] { model.Version },
            platform = "onnxruntime_onnx",
            inputs = new[] { new { name = model.Input.Name, datatype = model.Input.Datatype, shape = model.Input.ProtocolShape(batched) } },
            outputs = model.Outputs.Select(o => new { name = o.Name, datatype = o.Datatype, shape = o.ProtocolShape(batched) }),
            parameters = new
            {
                max_batch_size = model.MaxBatchSize,
                input_range = model.Input.Min is null ? null : new[] { model.Input.Min, model.Input.Max },
                labels = model.Labels,
            },
        };
    }
}
