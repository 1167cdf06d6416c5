using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Grains;
using ShieldCluster.Grains.Options;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Protection.Validation;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Identity;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// The protected inference path for one request: find the model the client may use, validate the
/// tensor, admit it through the client's grain, run it on a local inference grain, record the
/// compact features in the client's history, answer.
/// </summary>
public sealed class InferencePipeline(
    ModelRepository models,
    IGrainFactory grains,
    IOptions<ProtectionOptions> protection,
    [FromKeyedServices(ShieldTime.Key)] TimeProvider time)
{
    /// <summary>The model version a client asks for; 404 when absent or not allowed for this client.</summary>
    public ModelVersion FindModel(ClientIdentity client, string model, string? version)
    {
        var served = client.Allows(model) ? models.Find(model) : null;
        if (served is null)
        {
            throw ApiException.NotFound($"model '{model}' not found");
        }

        return served.Get(version) ?? throw ApiException.NotFound($"version '{version}' of model '{model}' not found");
    }

    /// <summary>Runs a parsed request; throws <see cref="ApiException"/> for every refusal.</summary>
    public async Task<IResult> InferAsync(HttpContext context, ClientIdentity client, ModelVersion model, InferRequest request)
    {
        var input = SelectInput(model, request);
        var error = TensorValidator.Validate(model.Input, model.MaxBatchSize, input.Datatype!, input.Shape, input.Data, out var batchSize);
        if (error is not null)
        {
            throw ApiException.BadRequest(error);
        }

        var outputIndexes = SelectOutputs(model, request.Outputs);
        var clientGrain = grains.GetGrain<IClientGrain>(client.ClientId);
        if (protection.Value.Enabled)
        {
            var admission = await clientGrain.AdmitAsync(batchSize);
            ApplyRateLimitHeaders(context.Response, admission);
            ThrowIfRefused(admission);
        }

        var result = await grains.GetGrain<IInferenceGrain>(model.Model)
            .InferAsync(new InferenceRequest(model.Model, model.Version, input.Data!, batchSize));

        if (protection.Value.Enabled)
        {
            _ = clientGrain.RecordAsync(BuildRecord(model, input.Data!, batchSize, result.Outputs[0]));
        }

        var outputs = new InferOutput[outputIndexes.Length];
        for (var i = 0; i < outputIndexes.Length; i++)
        {
            var spec = model.Outputs[outputIndexes[i]];
            long[] shape = model.MaxBatchSize > 0 ? [batchSize, .. spec.ItemDims] : [.. spec.ItemDims];
            outputs[i] = new InferOutput(spec, shape, result.Outputs[outputIndexes[i]]);
        }

        return new InferResponse(model.Model, result.Version, request.Id, outputs);
    }

    private static InferInput SelectInput(ModelVersion model, InferRequest request)
    {
        InferInput? match = null;
        foreach (var input in request.Inputs)
        {
            if (input.Name != model.Input.Name)
            {
                throw ApiException.BadRequest($"unknown input '{input.Name}'; model '{model.Model}' has input '{model.Input.Name}'");
            }

            if (match is not null)
            {
                throw ApiException.BadRequest($"input '{input.Name}' appears more than once");
            }

            match = input;
        }

        if (match!.DataProblem is { } problem)
        {
            throw ApiException.BadRequest($"input '{match.Name}': {problem}");
        }

        return match;
    }

    private static int[] SelectOutputs(ModelVersion model, List<string>? requested)
    {
        if (requested is null || requested.Count == 0)
        {
            return [.. Enumerable.Range(0, model.Outputs.Count)];
        }

        var indexes = new int[requested.Count];
        for (var i = 0; i < requested.Count; i++)
        {
            var index = -1;
            for (var j = 0; j < model.Outputs.Count; j++)
            {
                if (model.Outputs[j].Name == requested[i])
                {
                    index = j;
                }
            }

            indexes[i] = index >= 0 ? index : throw ApiException.BadRequest($"unknown output '{requested[i]}'");
        }

        return indexes;
    }

    private static void ApplyRateLimitHeaders(HttpResponse response, Admission admission)
    {
        response.Headers["RateLimit-Limit"] = admission.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers["RateLimit-Remaining"] = admission.Remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers["RateLimit-Reset"] = admission.ResetSeconds.ToString(CultureInfo.InvariantCulture);
    }

    private static void ThrowIfRefused(Admission admission)
    {
        switch (admission.Decision)
        {
            case AdmissionDecision.Admitted:
                return;
            case AdmissionDecision.RateLimited:
                throw new ApiException(StatusCodes.Status429TooManyRequests, "rate limit exceeded", admission.RetryAfterSeconds);
            case AdmissionDecision.QuotaExceeded:
                throw new ApiException(StatusCodes.Status429TooManyRequests, "daily quota exceeded", admission.RetryAfterSeconds);
            case AdmissionDecision.Blocked:
                throw new ApiException(StatusCodes.Status403Forbidden, "client is blocked");
            default:
                throw new ApiException(StatusCodes.Status401Unauthorized, "unknown API key");
        }
    }

    private QueryRecord BuildRecord(ModelVersion model, float[] input, int batchSize, float[] scores)
    {
        var itemLength = input.Length / batchSize;
        var classes = scores.Length / batchSize;
        var items = new QueryItem[batchSize];
        for (var i = 0; i < batchSize; i++)
        {
            var features = model.Features.Extract(input.AsSpan(i * itemLength, itemLength));
            var row = scores.AsSpan(i * classes, classes);
            var label = TensorPrimitives.IndexOfMax(row);
            items[i] = new QueryItem(features.Digest, label, row[label], features.Thumbnail);
        }

        return new QueryRecord(time.GetUtcNow(), model.Model, model.Version, items);
    }
}
